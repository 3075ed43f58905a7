#!/usr/bin/env python3
"""Tests of the KCIDB export (report.py --kcidb, kcidb.py) against a JSON
Schema written from kcidb-io's published v5 schema (kcidb_v5.schema.json).

    python3 reports/kcidb_test.py [RESULTS_DIR...]

With results directories (e.g. a five-kernel matrix from ./ringcheck vm),
their document is validated too.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from report_test import end, make_results  # noqa: E402

REPORT = os.path.join(HERE, "report.py")
with open(os.path.join(HERE, "kcidb_v5.schema.json")) as f:
    SCHEMA = json.load(f)
EXTRA_DIRS = []


def validate(doc):
    """Schema errors, plus any null anywhere (KCIDB forbids them)."""
    v = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]

    def nulls(x, where):
        if x is None:
            errors.append(f"{where}: null")
        elif isinstance(x, dict):
            for k, y in x.items():
                nulls(y, f"{where}/{k}")
        elif isinstance(x, list):
            for i, y in enumerate(x):
                nulls(y, f"{where}/{i}")
    nulls(doc, "")
    return errors


def kcidb(dirs, out, *extra):
    p = subprocess.run([sys.executable, REPORT, *dirs, "--out", os.path.dirname(out), "--kcidb", out, *extra],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    doc = None
    if os.path.exists(out):
        with open(out) as f:
            doc = json.load(f)
    return p.returncode, doc, p.stderr


DEBIAN = {
    "5.10.0-32-amd64": "debian:5.10 (linux-image-5.10.0-32-amd64 5.10.223-1)",
    "6.1.0-50-amd64": "debian:6.1 (linux-image-6.1.0-50-amd64 6.1.176-1)",
    "6.12.117+deb13-amd64": "debian:6.12 (linux-image-6.12.117+deb13-amd64 6.12.117-1)",
    "7.2.13+deb14-amd64": "debian:7.2 (linux-image-7.2.13+deb14-amd64 7.2.13-1)",
}


def five_kernels(root):
    """The host and four Debian guests; the 7.2 guest panics before verbs_test."""
    dirs = [make_results(root, "host", "6.18.44-test", {"nop_test": [
        end("AllRings/Nop.OneCqePerSqe/sqpoll", "PASS", suite="AllRings/Nop", param="sqpoll", rules=["N1"],
            features=["op_nop"]),
        end("Nop.Fails", "FAIL", messages=["nop.cc:9: expected -EBUSY, got 0 (rule C5)"], rules=["C5"]),
    ], "verbs_test": [
        end("Verbs.Fork", "SKIP", reason="environment:rdma (no device)", rules=["F1"]),
    ]})]
    for i, (release, source) in enumerate(DEBIAN.items()):
        vm = {"status": "ok", "accel": "tcg", "planned_binaries": ["nop_test", "verbs_test"]}
        events = {"nop_test": [
            end("AllRings/Nop.OneCqePerSqe/sqpoll", "XFAIL" if i == 0 else "PASS", suite="AllRings/Nop",
                param="sqpoll", rules=["N1"], reason="rule N1: io_nop refuses IOPOLL before 5.19" if i == 0 else "",
                expectation="expectations/debian-5.10.txt:12" if i == 0 else ""),
            end("Nop.Fails", "XPASS" if i == 1 else "PASS", reason="stale: rule C5" if i == 1 else ""),
            {"event": "start", "test": "Nop.Crashes"},
        ]}
        if i == 3:
            vm.update(status="panic", message="kernel panic in verbs_test's turn")
        else:
            events["verbs_test"] = [end("Verbs.Fork", "PASS", rules=["F1"])]
        dirs.append(make_results(root, release.split("-")[0], release, events,
                                 binaries={b: (139 if b == "nop_test" else 0) for b in events}, vm=vm,
                                 source=source))
    return dirs


class KcidbTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="kcidb-test.", dir=os.environ.get("TEST_TMPDIR"))
        self.out = os.path.join(self.root, "out", "kcidb.json")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_five_kernel_matrix_validates(self):
        rc, doc, err = kcidb(five_kernels(self.root), self.out)
        self.assertIn(rc, (0, 1), err)
        self.assertEqual(validate(doc), [])
        self.assertEqual(doc["version"]["major"], 5)
        self.assertEqual(len(doc["checkouts"]), 5)
        self.assertEqual(len(doc["builds"]), 5)
        checkouts = {c["id"] for c in doc["checkouts"]}
        builds = {b["id"] for b in doc["builds"]}
        self.assertTrue(all(b["checkout_id"] in checkouts for b in doc["builds"]))
        self.assertTrue(all(t["build_id"] in builds for t in doc["tests"]))
        debian = [c for c in doc["checkouts"] if c.get("tree_name") == "debian"]
        self.assertEqual(len(debian), 4)
        self.assertIn("6.1.176-1", json.dumps(debian))

    def test_statuses_paths_and_misc(self):
        rc, doc, err = kcidb(five_kernels(self.root), self.out)
        by = {}
        for t in doc["tests"]:
            by.setdefault((t["misc"]["ringcheck_verdict"], t["path"]), []).append(t)
        xfail = by[("XFAIL", "ringcheck.nop.AllRings.Nop.OneCqePerSqe.sqpoll")][0]
        self.assertEqual(xfail["status"], "FAIL")
        self.assertIs(xfail["waived"], True)
        self.assertIn("io_nop refuses IOPOLL", xfail["misc"]["expectation_reason"])
        self.assertEqual(xfail["misc"]["rules"], ["N1"])
        xpass = by[("XPASS", "ringcheck.nop.Nop.Fails")][0]
        self.assertEqual(xpass["status"], "FAIL")
        self.assertNotIn("waived", xpass)
        skip = by[("SKIP", "ringcheck.verbs.Verbs.Fork")][0]
        self.assertEqual(skip["status"], "SKIP")
        self.assertEqual(skip["misc"]["skip_reason"], "environment:rdma (no device)")
        # A test whose process died: ERROR, on every guest kernel.
        self.assertEqual(len(by[("ERROR", "ringcheck.nop.Nop.Crashes")]), 4)
        # The guest that panicked never ran verbs_test: one MISS per test it has elsewhere.
        miss = by[("MISS", "ringcheck.verbs.Verbs.Fork")]
        self.assertEqual(len(miss), 1)
        self.assertEqual(miss[0]["status"], "MISS")
        self.assertEqual(sum(1 for t in doc["tests"] if t["status"] == "MISS"), 1)
        statuses = {t["status"] for t in doc["tests"]}
        self.assertEqual(statuses, {"PASS", "FAIL", "SKIP", "ERROR", "MISS"})

    def test_ids_are_stable_across_reruns_and_distinct(self):
        _, first, _ = kcidb(five_kernels(self.root), self.out)
        again = tempfile.mkdtemp(dir=self.root)
        out2 = os.path.join(again, "out", "kcidb.json")
        _, second, _ = kcidb(five_kernels(again), out2)
        ids = lambda d: sorted(x["id"] for kind in ("checkouts", "builds", "tests") for x in d[kind])
        self.assertEqual(ids(first), ids(second))
        self.assertEqual(len(set(ids(first))), len(ids(first)))

    def test_origin(self):
        rc, doc, _ = kcidb(five_kernels(self.root), self.out, "--origin", "my_lab")
        self.assertEqual(validate(doc), [])
        self.assertTrue(all(x["id"].startswith("my_lab:") and x["origin"] == "my_lab"
                            for kind in ("checkouts", "builds", "tests") for x in doc[kind]))
        rc, _, err = kcidb(five_kernels(tempfile.mkdtemp(dir=self.root)), self.out + ".bad", "--origin", "My-Lab")
        self.assertEqual(rc, 64)
        self.assertIn("[a-z0-9_]+", err)

    def test_schema_rejects_what_kcidb_rejects(self):
        _, doc, _ = kcidb(five_kernels(self.root), self.out)
        for mutate in (lambda d: d["tests"][0].update(path="ringcheck.nop.A/B"),
                       lambda d: d["tests"][0].update(status="XFAIL"),
                       lambda d: d["tests"][0].update(start_time="yesterday"),
                       lambda d: d["builds"][0].update(id="no-origin-colon"),
                       lambda d: d["checkouts"][0].update(comment=None),
                       lambda d: d["tests"][0].update(unknown_field=1)):
            bad = json.loads(json.dumps(doc))
            mutate(bad)
            self.assertNotEqual(validate(bad), [], "a mutation passed the schema")

    def test_given_results_validate(self):
        if not EXTRA_DIRS:
            self.skipTest("no results directories given")
        rc, doc, err = kcidb(EXTRA_DIRS, self.out)
        self.assertIsNotNone(doc, err)
        self.assertEqual(validate(doc), [])


if __name__ == "__main__":
    EXTRA_DIRS.extend(a for a in sys.argv[1:] if not a.startswith("-"))
    unittest.main(argv=[sys.argv[0]] + [a for a in sys.argv[1:] if a.startswith("-")])
