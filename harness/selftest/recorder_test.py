#!/usr/bin/env python3
"""End-to-end check of the recorder main, the expectations and the report
tools: run the fixture suite, read what it recorded, build a report."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

FIXTURE, EXPECTATIONS, REPORT, RESULTS = sys.argv[1:5]
del sys.argv[1:5]


def run_fixture(results_dir, expectations=True, crash=False, extra=()):
    env = dict(os.environ, RINGCHECK_RESULTS_DIR=results_dir)
    env.pop("TEST_UNDECLARED_OUTPUTS_DIR", None)
    env["RINGCHECK_EXPECTATIONS"] = EXPECTATIONS if expectations else os.path.join(results_dir, "none")
    if crash:
        env["RINGCHECK_SELFTEST_CRASH"] = "1"
    return subprocess.run([FIXTURE, *extra], env=env, capture_output=True, text=True).returncode


def verdicts(results_dir):
    out = {}
    with open(os.path.join(results_dir, "suites", "fixture.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e["event"] == "end":
                out[e["test"]] = e
    return out


def write_run_json(results_dir):
    with open(os.path.join(results_dir, "run.json"), "w") as f:
        json.dump({"schema": "ringcheck.run/1", "kernel_release": "0.0-test", "source": "test"}, f)


class RecorderTest(unittest.TestCase):
    def test_expected_failure_is_xfail_and_exit_is_zero(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(run_fixture(d), 0)
            v = verdicts(d)
            self.assertEqual(v["SelfTest.Passes"]["verdict"], "PASS")
            self.assertEqual(v["SelfTest.Passes"]["rules"], ["E13"])
            self.assertEqual(v["SelfTest.SkipsWithReason"]["verdict"], "SKIP")
            self.assertEqual(v["SelfTest.SkipsWithReason"]["reason"], "unsupported:selftest_feature")
            self.assertEqual(v["SelfTest.KnownDeviation"]["verdict"], "XFAIL")
            self.assertIn("on purpose", v["SelfTest.KnownDeviation"]["reason"])
            self.assertTrue(v["SelfTest.ListedButPasses"]["unexpected_pass"])

    def test_failure_without_expectation_is_fail_with_errno_names(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(run_fixture(d, expectations=False), 1)
            v = verdicts(d)["SelfTest.KnownDeviation"]
            self.assertEqual(v["verdict"], "FAIL")
            self.assertIn("expected -EBUSY, got 0 (rule C5)", v["messages"][0])

    def test_crash_leaves_an_error_in_the_report(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertNotEqual(run_fixture(d, crash=True), 0)
            with open(os.path.join(d, "binaries.jsonl"), "w") as f:
                f.write(json.dumps({"binary": "fixture", "exit_code": 134}) + "\n")
            write_run_json(d)
            out = os.path.join(d, "out")
            rc = subprocess.run([sys.executable, REPORT, d, "--out", out], capture_output=True).returncode
            self.assertEqual(rc, 1)
            with open(os.path.join(out, "report.json")) as f:
                report = json.load(f)
            errors = [t for t in report["kernels"][0]["tests"] if t["verdict"] == "ERROR"]
            self.assertEqual([t["name"] for t in errors], ["SelfTest.CrashesOnRequest"])
            self.assertIn("killed by signal 6", errors[0]["messages"][0])

    def test_unreadable_results_directory_is_one_sentence_and_exit_3(self):
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.run([sys.executable, REPORT, os.path.join(d, "missing"), "--out", d],
                                  capture_output=True, text=True)
            self.assertEqual(proc.returncode, 3)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
            self.assertFalse(os.path.exists(os.path.join(d, "report.json")))


if __name__ == "__main__":
    unittest.main()
