#!/usr/bin/env python3
"""The run step of lava/ringcheck.yaml, executed here as LAVA would on the
device: the definition's parameters exported, its steps run by sh from the
repository's root, with a stub lava-test-case (a test double of the LAVA
command only) that records each call. The bundle and the kernel are real.

    python3 lava_test.py RINGCHECK_YAML RINGCHECK_LAVA_SH BUNDLE.tar.gz KTAP_CHECK.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

ARGS = {}
STUB = """#!/bin/sh
# lava-test-case NAME --result pass|fail|skip|unknown: recorded, checked as LAVA would.
case $# in 3) ;; *) echo "lava-test-case: bad arguments: $*" >&2; exit 2 ;; esac
[ "$2" = --result ] || { echo "lava-test-case: expected --result, got $2" >&2; exit 2; }
case $3 in pass | fail | skip | unknown) ;; *) echo "lava-test-case: bad result $3" >&2; exit 2 ;; esac
printf '%s %s\\n' "$1" "$3" >>"$LAVA_CALLS"
"""


class LavaRunStep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="lava-test.", dir=os.environ.get("TEST_TMPDIR"))
        with open(ARGS["yaml"]) as f:
            cls.definition = yaml.safe_load(f)
        repo = os.path.join(cls.root, "repo")
        os.makedirs(os.path.join(repo, "lava"))
        shutil.copy(ARGS["yaml"], os.path.join(repo, "lava", "ringcheck.yaml"))
        shutil.copy(ARGS["script"], os.path.join(repo, "lava", "ringcheck-lava.sh"))
        stubs = os.path.join(cls.root, "stubs")
        os.makedirs(stubs)
        with open(os.path.join(stubs, "lava-test-case"), "w") as f:
            f.write(STUB)
        os.chmod(os.path.join(stubs, "lava-test-case"), 0o755)
        cls.calls = os.path.join(cls.root, "calls.txt")
        params = dict(cls.definition.get("params", {}))
        params["BUNDLE_URL"] = "file://" + os.path.abspath(ARGS["bundle"])
        params["TIMEOUT"] = "240"
        script = "set -e\n" + "".join(f"{k}='{v}'\n" for k, v in params.items()) + \
                 "\n".join(cls.definition["run"]["steps"]) + "\n"
        env = {"PATH": stubs + ":/usr/bin:/bin:/usr/sbin:/sbin", "LAVA_CALLS": cls.calls, "HOME": cls.root}
        p = subprocess.run(["sh", "-c", script], cwd=repo, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        cls.rc, cls.err = p.returncode, p.stderr
        cls.output = os.path.join(repo, "lava", "output")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def recorded(self):
        with open(self.calls) as f:
            return [tuple(l.split()) for l in f if l.strip()]

    def test_definition_format(self):
        meta = self.definition["metadata"]
        self.assertEqual(meta["format"], "Lava-Test Test Definition 1.0")
        self.assertEqual(meta["name"], "ringcheck")
        self.assertIn("BUNDLE_URL", self.definition["params"])

    def test_one_result_per_test_and_suite(self):
        self.assertEqual(self.rc, 0, self.err[-2000:])
        calls = self.recorded()
        names = [c[0] for c in calls]
        self.assertEqual(len(names), len(set(names)), "a test case was reported twice")
        for n in names:
            self.assertRegex(n, r"^[A-Za-z0-9_.-]+$")
        self.assertEqual(dict(calls)["ringcheck-fetch"], "pass")
        self.assertEqual(dict(calls)["ringcheck-run"], "pass")
        # Every test of the results directory, once, with its result.
        results = os.path.join(self.output, "results")
        sys.path.insert(0, os.path.dirname(os.path.abspath(ARGS["ktap_check"])))
        import ktap_check
        verdicts = ktap_check.results_verdicts(results)
        want = {"PASS": "pass", "XFAIL": "pass", "SKIP": "skip", "FAIL": "fail", "XPASS": "fail", "ERROR": "fail"}
        got = dict(calls)
        expected_cases = 2 + len(verdicts) + sum(len(t) for t in verdicts.values())
        self.assertEqual(len(calls), expected_cases)
        for binary, tests in verdicts.items():
            self.assertIn(binary, got)
            for name, (verdict, _) in tests.items():
                case = binary + "." + re.sub(r"[^A-Za-z0-9_.-]", "_", name)
                self.assertEqual(got.get(case), want[verdict], case)
        print(f"lava-test-case called {len(calls)} times: {len(verdicts)} suites, "
              f"{expected_cases - 2 - len(verdicts)} tests", file=sys.stderr)

    def test_results_kept_for_the_report(self):
        self.assertTrue(os.path.isfile(os.path.join(self.output, "results.tar.gz")))
        self.assertTrue(os.path.isfile(os.path.join(self.output, "ringcheck.ktap")))

    def test_missing_bundle_is_a_failed_case(self):
        calls = os.path.join(self.root, "calls2.txt")
        stubs = os.path.join(self.root, "stubs")
        p = subprocess.run(["sh", os.path.join(self.root, "repo", "lava", "ringcheck-lava.sh"), "-u",
                            os.path.join(self.root, "no-such.tar.gz"), "-o", os.path.join(self.root, "out2")],
                           env={"PATH": stubs + ":/usr/bin:/bin", "LAVA_CALLS": calls},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0)
        with open(calls) as f:
            self.assertEqual(f.read().split(), ["ringcheck-fetch", "fail"])


if __name__ == "__main__":
    ARGS.update(zip(("yaml", "script", "bundle", "ktap_check"), sys.argv[1:5]))
    del sys.argv[1:5]
    unittest.main()
