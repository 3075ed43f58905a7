#!/usr/bin/env python3
"""Tests of report.py and diff.py on small synthetic results directories.

Run by Bazel (//reports:report_test) or directly: python3 reports/report_test.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")
DIFF = os.path.join(HERE, "diff.py")

FEATURES = [
    {"id": "op_nop", "supported": True, "mainline": "5.1", "what": "IORING_OP_NOP"},
    {"id": "op_mkdirat", "supported": True, "mainline": "5.15", "what": "IORING_OP_MKDIRAT"},
    {"id": "register_clone_buffers", "supported": False, "mainline": "6.12", "what": "CLONE_BUFFERS"},
]


def end(test, verdict, **extra):
    e = {"event": "end", "test": test, "suite": test.rsplit(".", 1)[0], "verdict": verdict,
         "rules": [], "messages": [], "duration_ms": 3, "kernel_log": []}
    e.update(extra)
    return e


def make_results(root, name, release, events, binaries=None, features=FEATURES, vm=None, source="host"):
    """A results directory as harness/run.sh or harness/vm/boot.py write it."""
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "suites"))
    run = {"schema": "ringcheck.run/1", "kernel_release": release, "source": source,
           "started": "2026-01-01T00:00:00Z", "duration_ms": 1000, "ringcheck_commit": "test"}
    if vm:
        run["vm"] = vm
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(run, f)
    with open(os.path.join(d, "capabilities.json"), "w") as f:
        json.dump({"schema": "ringcheck.capabilities/1", "kernel": {"release": release},
                   "liburing": "2.9", "features": features, "setup_flags": {"SQPOLL": "0"}}, f)
    for binary, evs in events.items():
        with open(os.path.join(d, "suites", binary + ".jsonl"), "w") as f:
            for e in [{"event": "program_start", "binary": binary, "taint": 0}] + evs:
                f.write(json.dumps(e) + "\n")
    with open(os.path.join(d, "binaries.jsonl"), "w") as f:
        for binary, code in (binaries or {b: 0 for b in events}).items():
            f.write(json.dumps({"binary": binary, "attempt": 0, "exit_code": code}) + "\n")
    return d


def run(*args):
    p = subprocess.run([sys.executable] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


class Fixture(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="report-test.", dir=os.environ.get("TEST_TMPDIR"))
        self.old = make_results(self.root, "old", "5.10.0-32-amd64", {"nop_test": [
            {"event": "start", "test": "Nop.Works"},
            end("Nop.Works", "PASS"),
            end("Nop.Breaks", "PASS"),
            end("Nop.Fixed", "FAIL", messages=["nop.cc:3: expected 0, got -EINVAL (rule N2): res"], rules=["N2"]),
            end("Clone.Busy", "SKIP", reason="unsupported:register_clone_buffers"),
            end("Nop.Known", "XFAIL", reason="accepted: rule N3 differs on 5.10"),
        ]}, source="debian:5.10 (linux-image-5.10.0-32-amd64 5.10.223-1)")
        new_features = [dict(f, supported=True) for f in FEATURES]
        self.new = make_results(self.root, "new", "6.12.107+deb13-amd64", {"nop_test": [
            end("Nop.Works", "PASS"),
            end("Nop.Breaks", "FAIL", messages=["nop.cc:9: expected -EBUSY, got 0 (rule C5)"], rules=["C5"]),
            end("Nop.Fixed", "PASS"),
            end("Clone.Busy", "PASS"),
            end("Nop.Known", "PASS"),
        ]}, features=new_features, source="debian:6.12 (linux-image-6.12.107+deb13-amd64 6.12.107-1)")
        self.out = os.path.join(self.root, "report")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def report(self, *dirs):
        rc, out, err = run(REPORT, *dirs, "--out", self.out)
        data = None
        if os.path.exists(os.path.join(self.out, "report.json")):
            with open(os.path.join(self.out, "report.json")) as f:
                data = json.load(f)
        return rc, data, err


class ReportTest(Fixture):
    def test_matrix_of_two_kernels(self):
        rc, rep, _ = self.report(self.new, self.old)
        self.assertEqual(rc, 1, "a FAIL makes the exit status 1")
        self.assertEqual(rep["schema"], "ringcheck.report/3")
        self.assertEqual([k["release"] for k in rep["kernels"]], ["5.10.0-32-amd64", "6.12.107+deb13-amd64"],
                         "kernels are ordered by version")
        old = rep["kernels"][0]
        self.assertEqual(old["summary"], {"PASS": 2, "FAIL": 1, "SKIP": 1, "XFAIL": 1, "XPASS": 0, "ERROR": 0,
                                          "total": 5})
        skip = next(t for t in old["tests"] if t["name"] == "Clone.Busy")
        self.assertEqual(skip["skip_reason"], "unsupported:register_clone_buffers")
        fail = next(t for t in old["tests"] if t["name"] == "Nop.Fixed")
        self.assertEqual((fail["rule"], fail["verdict"]), ("N2", "FAIL"))
        clone = next(f for f in rep["features"] if f["id"] == "register_clone_buffers")
        self.assertEqual(clone["cells"]["5.10.0-32-amd64"]["state"], "unsupported")
        self.assertEqual(clone["cells"]["6.12.107+deb13-amd64"]["state"], "supported")

    def test_failure_cards_say_who_is_affected(self):
        _, rep, _ = self.report(self.old, self.new)
        card = next(c for c in rep["failures"] if c["name"] == "Nop.Breaks")
        self.assertEqual((card["rule"], card["expected"], card["actual"]), ("C5", "-EBUSY", "0"))
        self.assertEqual([a["kernel"] for a in card["affected"]], ["6.12.107+deb13-amd64"])
        self.assertEqual([(a["kernel"], a["verdict"]) for a in card["not_affected"]], [("5.10.0-32-amd64", "PASS")])
        self.assertEqual([c["name"] for c in rep["known_deviations"]], ["Nop.Known"])

    def test_structured_checks_and_features_are_read_as_fields(self):
        d = make_results(self.root, "fields", "6.18.0", {"rw_test": [
            end("Rw.Short", "FAIL", messages=["free text with no pattern"], rules=["G3"], features=["op_read"],
                checks=[{"rule": "G3", "expected": "4", "actual": "-EINVAL", "expression": "cqe.res"}]),
            end("Rw.Fine", "PASS", features=["op_read", "op_nop"]),
        ]}, features=FEATURES + [{"id": "op_read", "supported": True, "mainline": "5.6", "what": "READ"}])
        rc, rep, _ = self.report(d)
        self.assertEqual(rc, 1)
        card = rep["failures"][0]
        self.assertEqual((card["expected"], card["actual"]), ("4", "-EINVAL"))
        read = next(f for f in rep["features"] if f["id"] == "op_read")["cells"]["6.18.0"]
        self.assertEqual((read["state"], read["counts"]), ("FAIL", {"FAIL": 1, "PASS": 1}))
        mkdir = next(f for f in rep["features"] if f["id"] == "op_mkdirat")["cells"]["6.18.0"]
        self.assertFalse(mkdir["tested"])
        with open(os.path.join(self.out, "report.md")) as f:
            md = f.read()
        self.assertIn("| `op_mkdirat` | supported, untested |", md)

    def test_xpass_fails_the_report_and_old_unexpected_passes_read_as_xpass(self):
        d = make_results(self.root, "xpass", "6.18.0", {"nop_test": [
            end("Nop.Stale", "XPASS", reason="passed, but known.txt:3 expects it to fail"),
            end("Nop.Old", "PASS", unexpected_pass=True),
        ]})
        rc, rep, _ = self.report(d)
        self.assertEqual(rc, 1, "an XPASS fails the report")
        self.assertEqual(rep["kernels"][0]["summary"]["XPASS"], 2)
        self.assertEqual({c["name"] for c in rep["failures"]}, {"Nop.Stale", "Nop.Old"})

    def test_kernel_bugs_are_listed_apart(self):
        d = make_results(self.root, "bugs", "6.18.0", {"net_test": [
            end("Zc.DrainCompletes", "XFAIL", reason="kernel bug: the notif counts for the drain (io_queue_deferred)"),
            end("Nop.Older", "XFAIL", reason="5.10 behaves as its era did"),
        ]})
        _, rep, _ = self.report(d)
        self.assertEqual([c["name"] for c in rep["kernel_bugs"]], ["Zc.DrainCompletes"])
        with open(os.path.join(self.out, "report.md")) as f:
            self.assertIn("## Kernel bugs", f.read())

    def test_rule_texts_come_from_spec(self):
        _, rep, _ = self.report(self.old, self.new)
        self.assertIn("C5", rep["rule_texts"], "the rule a failure names is spelled out")
        self.assertTrue(rep["rule_texts"]["C5"]["file"].startswith("spec/"))

    def test_io_uring_unavailable_is_one_sentence(self):
        caps = os.path.join(self.root, "caps.json")
        with open(caps, "w") as f:
            json.dump({"setup_error": "-EPERM", "io_uring_disabled": 2, "io_uring_group": -1}, f)
        rc, out, _ = run(os.path.join(HERE, "unavailable.py"), caps)
        self.assertEqual(rc, 0)
        self.assertEqual(out.strip(), "io_uring_setup fails with -EPERM: kernel.io_uring_disabled is 2, "
                                      "which disables io_uring for everyone")

    def test_stress_lists_verdicts_that_changed(self):
        root = os.path.join(self.root, "stress")
        os.makedirs(root)
        make_results(root, "host-1", "6.18.0", {"nop_test": [end("Nop.A", "PASS"), end("Nop.B", "PASS")]})
        make_results(root, "host-2", "6.18.0", {"nop_test": [end("Nop.A", "PASS"), end("Nop.B", "FAIL")]})
        rc, out, _ = run(os.path.join(HERE, "stress.py"), root)
        self.assertEqual(rc, 1)
        with open(os.path.join(root, "stress.json")) as f:
            k = json.load(f)["kernels"]["6.18.0"]
        self.assertEqual(k["changed"], {"nop_test:Nop.B": ["PASS", "FAIL"]})
        self.assertEqual(k["failing"], 1)

    def test_stress_sets_apart_what_a_flaky_entry_announces(self):
        root = os.path.join(self.root, "stress-flaky")
        os.makedirs(root)
        flaky_pass = "passed this time; expectations/x.txt:3 lists it as flaky: a race in io_should_wake"
        make_results(root, "host-1", "6.18.0", {"nop_test": [end("Nop.A", "PASS", reason=flaky_pass),
                                                             end("Nop.B", "PASS")]})
        make_results(root, "host-2", "6.18.0", {"nop_test": [end("Nop.A", "XFAIL", reason="a race in io_should_wake"),
                                                             end("Nop.B", "XFAIL", reason="not flaky")]})
        rc, out, _ = run(os.path.join(HERE, "stress.py"), root)
        with open(os.path.join(root, "stress.json")) as f:
            k = json.load(f)["kernels"]["6.18.0"]
        self.assertEqual(k["flaky"], {"nop_test:Nop.A": {"verdicts": ["PASS", "XFAIL"],
                                                         "reason": "a race in io_should_wake"}})
        self.assertEqual(k["changed"], {"nop_test:Nop.B": ["PASS", "XFAIL"]},
                         "a PASS that does not say its entry is flaky still counts")
        self.assertEqual(rc, 1)
        self.assertIn("Listed as flaky", out)
        shutil.rmtree(os.path.join(root, "host-2"))
        make_results(root, "host-2", "6.18.0", {"nop_test": [end("Nop.A", "XFAIL", reason="a race in io_should_wake"),
                                                             end("Nop.B", "PASS")]})
        rc, _, _ = run(os.path.join(HERE, "stress.py"), root)
        self.assertEqual(rc, 0, "only the announced variation: nothing changed that counts")

    def test_backports_are_found(self):
        _, rep, _ = self.report(self.old)
        kinds = {(d["feature"], d["kind"]) for d in rep["disagreements"]}
        self.assertIn(("op_mkdirat", "backport"), kinds, "5.10 with a 5.15 opcode is a backport")

    def test_html_is_self_contained(self):
        self.report(self.old, self.new)
        with open(os.path.join(self.out, "report.html")) as f:
            page = f.read()
        self.assertNotRegex(page, r"<script[^>]*\bsrc=")  # the filter's script is inline
        self.assertNotRegex(page, r"<(link|img|iframe)\b")
        self.assertNotIn("http://", page)
        self.assertNotIn("https://", page)
        for needle in ("Features &times; kernels", "Nop.Breaks", "debian:5.10", "backport"):
            self.assertIn(needle, page)

    def test_crashed_binary_is_an_error(self):
        crashed = make_results(self.root, "crashed", "6.1.0-50-amd64", {"fork_test": [
            end("Fork.Before", "PASS"), {"event": "start", "test": "Fork.Dies"}]},
            binaries={"fork_test": 139, "never_test": 137})
        rc, rep, _ = self.report(crashed)
        self.assertEqual(rc, 1)
        errors = {t["name"]: t["messages"][0] for t in rep["kernels"][0]["tests"] if t["verdict"] == "ERROR"}
        self.assertIn("killed by signal 11", errors["Fork.Dies"])
        self.assertIn("timed out before recording anything", errors["never_test"])

    def test_panicked_guest_is_an_error_with_its_console(self):
        vm = {"status": "panic", "message": "the guest kernel panicked while nop_test ran: Kernel panic - not syncing",
              "planned_binaries": ["nop_test", "setup_test"],
              "console_excerpt": ["Kernel panic - not syncing: sysrq triggered crash"]}
        dead = make_results(self.root, "dead", "6.1.0-50-amd64", {"nop_test": [end("Nop.Works", "PASS")]},
                            vm=vm, source="debian:6.1 (x)")
        rc, rep, _ = self.report(dead)
        self.assertEqual(rc, 1)
        k = rep["kernels"][0]
        self.assertTrue(k["health"]["red"])
        errors = {t["name"]: t for t in k["tests"] if t["verdict"] == "ERROR"}
        self.assertIn("Kernel panic", errors["VM.GuestRanToTheEnd"]["kernel_log"][0])
        self.assertIn("setup_test", errors)

    def test_fuzz_summary_is_carried_and_shown(self):
        os.makedirs(os.path.join(self.old, "fuzz"))
        fuzz = {"schema": "ringcheck.fuzz/1", "started": "2026-01-01T00:00:00Z", "duration_s": 600,
                "kernel": "5.10.0-32-amd64", "known_findings_stepped_around": "", "targets": [
                    {"name": "sqe_fuzzer", "runs": 2, "execs_per_s": 2000, "sqes_per_s": 9000, "features": 812,
                     "corpus_size": 40, "duration_s": 600, "fds_at_1m": "12/3", "fds_at_end": "12/3",
                     "fd_growth_within_a_process": 0,
                     "crashes": [{"id": "crash-1", "oracle": "cqe count", "first_seen": "2026-01-01",
                                  "input": "crashes/crash-1/minimized", "reproducer": "crashes/crash-1/repro.cc"}]}]}
        with open(os.path.join(self.old, "fuzz", "fuzz-report.json"), "w") as f:
            json.dump(fuzz, f)
        _, rep, _ = self.report(self.old)
        self.assertEqual(rep["kernels"][0]["fuzz"], fuzz)
        with open(os.path.join(self.out, "report.html")) as f:
            page = f.read()
        self.assertIn("sqe_fuzzer", page)
        self.assertIn("crashes/crash-1/repro.cc", page)
        with open(os.path.join(self.out, "report.md")) as f:
            self.assertIn("`sqe_fuzzer`: 1 crashes", f.read())

    def test_unreadable_input_keeps_the_earlier_report(self):
        self.report(self.old)
        with open(os.path.join(self.out, "report.json")) as f:
            before = f.read()
        broken = os.path.join(self.root, "broken")
        os.makedirs(os.path.join(broken, "suites"))
        with open(os.path.join(broken, "run.json"), "w") as f:
            f.write("{not json")
        rc, _, err = self.report(broken)
        self.assertEqual(rc, 3)
        self.assertEqual(len(err.strip().splitlines()), 1, "one sentence: " + err)
        self.assertIn("run.json cannot be read", err)
        rc, _, err = self.report(os.path.join(self.root, "missing"))
        self.assertEqual(rc, 3)
        with open(os.path.join(self.out, "report.json")) as f:
            self.assertEqual(f.read(), before, "the earlier report is untouched")

    def test_unwritable_output_is_exit_4_and_leaves_the_earlier_report_whole(self):
        self.report(self.old)
        os.remove(os.path.join(self.out, "report.md"))
        os.mkdir(os.path.join(self.out, "report.md"))  # renaming over a directory fails
        with open(os.path.join(self.out, "report.json")) as f:
            before = f.read()
        rc, _, err = self.report(self.new)
        self.assertEqual(rc, 4, err)
        with open(os.path.join(self.out, "report.json")) as f:
            self.assertEqual(f.read(), before, "no file of the new report replaced the old one")
        self.assertEqual([n for n in os.listdir(self.out) if n.startswith(".")], [], "no temporary left")

    def test_usage(self):
        self.assertEqual(run(REPORT)[0], 64)
        self.assertEqual(run(REPORT, "--help")[0], 0)


class DiffTest(Fixture):
    def test_regressions_fixes_and_features(self):
        rc, out, _ = run(DIFF, "--json", self.old, self.new)
        self.assertEqual(rc, 1, "Nop.Breaks went PASS -> FAIL")
        d = json.loads(out)["pairs"][0]
        self.assertEqual([e["test"] for e in d["regressions"]], ["Nop.Breaks"])
        self.assertEqual([e["test"] for e in d["fixes"]], ["Nop.Fixed"])
        self.assertEqual(d["newly_supported"], ["register_clone_buffers"])
        self.assertEqual(d["newly_unsupported"], [])

    def test_no_regression_is_exit_0(self):
        newer = make_results(self.root, "newer", "6.12.107+deb13-amd64", {"nop_test": [
            end("Nop.Works", "PASS"), end("Nop.Breaks", "PASS"), end("Nop.Fixed", "PASS"),
            end("Clone.Busy", "SKIP", reason="unsupported:register_clone_buffers")]})
        rc, out, _ = run(DIFF, self.new, newer)
        self.assertEqual(rc, 0, out)
        self.assertIn("newly unsupported: 1: register_clone_buffers", out)
        self.assertIn("fixes: 1", out)

    def test_report_json_inputs(self):
        a, b = os.path.join(self.root, "a"), os.path.join(self.root, "b")
        run(REPORT, self.old, "--out", a)
        run(REPORT, self.new, "--out", b)
        rc, out, _ = run(DIFF, os.path.join(a, "report.json"), os.path.join(b, "report.json"))
        self.assertEqual(rc, 1, out)
        self.assertIn("Nop.Breaks", out)

    def test_unreadable_or_incomplete_input_is_exit_2(self):
        rc, _, err = run(DIFF, self.old, os.path.join(self.root, "nowhere"))
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        dead = make_results(self.root, "dead", "6.12.107+deb13-amd64", {}, vm={
            "status": "hang", "message": "the guest made no progress for 360 s and was stopped",
            "planned_binaries": ["nop_test"]})
        rc, _, err = run(DIFF, self.old, dead)
        self.assertEqual(rc, 2)
        self.assertIn("incomplete", err)


if __name__ == "__main__":
    unittest.main()
