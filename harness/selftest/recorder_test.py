#!/usr/bin/env python3
"""End-to-end check of the recorder main, the expectations and the report
tools: run the fixture suite, read what it recorded, build a report."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

FIXTURE, EXPECTATIONS, REPORT, RESULTS, RUNNER, FIXTURE_ALONE = sys.argv[1:7]
del sys.argv[1:7]


def run_fixture(results_dir, expectations=True, crash=False, extra=(), env=None):
    extra_env = env or {}
    env = dict(os.environ, RINGCHECK_RESULTS_DIR=results_dir)
    env.pop("TEST_UNDECLARED_OUTPUTS_DIR", None)
    env.pop("XML_OUTPUT_FILE", None)  # the fixture's XML must not replace this test's own
    env.update(extra_env)
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
            self.assertEqual(run_fixture(d, extra=["--gtest_filter=-SelfTest.ListedButPasses"]), 0)
            v = verdicts(d)
            self.assertEqual(v["SelfTest.Passes"]["verdict"], "PASS")
            self.assertEqual(v["SelfTest.Passes"]["rules"], ["E13"])
            self.assertEqual(v["SelfTest.Passes"]["features"], ["op_nop"])
            self.assertEqual(v["SelfTest.SkipsWithReason"]["verdict"], "SKIP")
            self.assertEqual(v["SelfTest.SkipsWithReason"]["reason"], "unsupported:selftest_feature")
            self.assertEqual(v["SelfTest.KnownDeviation"]["verdict"], "XFAIL")
            self.assertIn("on purpose", v["SelfTest.KnownDeviation"]["reason"])
            self.assertEqual(v["SelfTest.KnownDeviation"]["checks"],
                             [{"rule": "C5", "expected": "-EBUSY", "actual": "0", "expression": "0"}])
            self.assertEqual(v["SelfTest.ListedFlakyPasses"]["verdict"], "PASS")
            self.assertIn("flaky", v["SelfTest.ListedFlakyPasses"]["reason"])

    def test_stale_expectation_is_xpass_and_fails_the_run(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(run_fixture(d, extra=["--gtest_filter=SelfTest.ListedButPasses"]), 1)
            v = verdicts(d)["SelfTest.ListedButPasses"]
            self.assertEqual(v["verdict"], "XPASS")
            self.assertIn("selftest.txt", v["expectation"])
            write_run_json(d)
            out = os.path.join(d, "out")
            rc = subprocess.run([sys.executable, REPORT, d, "--out", out], capture_output=True).returncode
            self.assertEqual(rc, 1)

    def test_junit_xml_has_no_failure_for_an_xfail(self):
        with tempfile.TemporaryDirectory() as d:
            xml = os.path.join(d, "test.xml")
            env = {"XML_OUTPUT_FILE": xml}
            run_fixture(d, extra=["--gtest_filter=SelfTest.KnownDeviation:SelfTest.ListedButPasses"], env=env)
            with open(xml) as f:
                text = f.read()
            self.assertIn('<skipped message="XFAIL: the self test fails this on purpose', text)
            self.assertEqual(text.count("<failure"), 1)
            self.assertIn('<failure message="XPASS:', text)

    def test_results_that_are_not_utf8_still_make_a_report(self):
        with tempfile.TemporaryDirectory() as d:
            run_fixture(d, extra=["--gtest_filter=SelfTest.Passes"])
            with open(os.path.join(d, "suites", "fixture.jsonl"), "ab") as f:
                f.write(b'{"event":"end","test":"SelfTest.Bad\xff","verdict":"PASS"}\n')
            write_run_json(d)
            proc = subprocess.run([sys.executable, REPORT, d, "--out", os.path.join(d, "out")],
                                  capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertNotIn("Traceback", proc.stderr)

    def test_failure_without_expectation_is_fail_with_errno_names(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(run_fixture(d, expectations=False, extra=["--gtest_filter=SelfTest.KnownDeviation"]), 1)
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


class FullDiskTest(unittest.TestCase):
    """harness/write_all.h: a disk full for a while costs no result line."""

    def test_lines_written_while_the_disk_is_full_arrive_whole(self):
        import shutil
        import threading
        import time
        d = tempfile.mkdtemp()
        try:
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                              capture_output=True).returncode != 0:
                self.skipTest("environment:mount (a small tmpfs could not be mounted here)")
            try:
                filler = os.path.join(d, "filler")
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
                try:
                    while os.write(fd, b"x" * 1024) > 0:
                        pass
                except OSError:
                    pass
                os.close(fd)
                results = os.path.join(d, "fixture.jsonl")
                # The disk fills up while the fixture runs; space comes back
                # after a second.
                threading.Timer(1.0, lambda: os.remove(filler)).start()
                env = dict(os.environ, RINGCHECK_RESULTS_FILE=results, RINGCHECK_EXPECTATIONS=EXPECTATIONS)
                for k in ("TEST_UNDECLARED_OUTPUTS_DIR", "XML_OUTPUT_FILE", "RINGCHECK_RESULTS_DIR"):
                    env.pop(k, None)
                start = time.monotonic()
                subprocess.run([FIXTURE], env=env, capture_output=True, text=True)
                self.assertGreater(time.monotonic() - start, 0.5, "the fixture never met the full disk")
                with open(results) as f:
                    events = [json.loads(l) for l in f]  # every line whole
                ends = [e["test"] for e in events if e["event"] == "end"]
                self.assertEqual(len(ends), 6, ends)
                self.assertEqual(events[-1]["event"], "program_end")
            finally:
                subprocess.run(["umount", "-l", d])
        finally:
            shutil.rmtree(d, ignore_errors=True)


class RunnerTest(unittest.TestCase):
    """harness/runner.cc: a binary cut into parts, joined back, called back."""

    def run_runner(self, d, split, crash=False, suites=(FIXTURE,)):
        hook = os.path.join(d, "hook.sh")
        with open(hook, "w") as f:
            f.write('#!/bin/sh\necho "$@" >>"$(dirname "$0")/events"\n')
        os.chmod(hook, 0o755)
        env = dict(os.environ)
        for k in ("TEST_UNDECLARED_OUTPUTS_DIR", "XML_OUTPUT_FILE", "RINGCHECK_RESULTS_DIR"):
            env.pop(k, None)
        if crash:
            env["RINGCHECK_SELFTEST_CRASH"] = "1"
        results = os.path.join(d, "results")
        rc = subprocess.run([RUNNER, "--results", results, "--expectations", EXPECTATIONS, "--split", str(split),
                             "--jobs", "3", "--on-event", hook, "--quiet", *suites],
                            env=env, capture_output=True, text=True).returncode
        with open(os.path.join(d, "events")) as f:
            events = [l.split() for l in f.read().splitlines()]
        with open(os.path.join(results, "binaries.jsonl")) as f:
            attempts = [json.loads(l) for l in f]
        with open(os.path.join(results, "suites", "fixture.jsonl")) as f:
            lines = [json.loads(l) for l in f]
        return rc, results, events, attempts, lines

    def test_parts_are_joined_into_one_file_with_every_test_once(self):
        with tempfile.TemporaryDirectory() as d:
            rc, results, events, attempts, lines = self.run_runner(d, split=2)
            ends = [e["test"] for e in lines if e["event"] == "end"]
            self.assertEqual(len(ends), 6)
            self.assertEqual(len(set(ends)), 6, ends)
            self.assertEqual(sorted({a["part"] for a in attempts}), ["1/3", "2/3", "3/3"])
            self.assertEqual(sum(1 for e in lines if e["event"] == "program_start"), 3)
            self.assertEqual(events[0], ["run", "fixture", "0"])
            self.assertEqual(events[-1][:2], ["done", "fixture"])
            self.assertEqual(len(events), 2, events)
            self.assertEqual(rc, 1)  # ListedButPasses is an XPASS
            self.assertEqual(events[-1][2], "1")
            self.assertFalse(os.path.exists(os.path.join(results, "parts")))
            self.assertTrue(os.path.exists(os.path.join(results, "logs", "fixture.log")))

    def test_a_crashed_part_is_started_again_past_the_test_that_killed_it(self):
        with tempfile.TemporaryDirectory() as d:
            rc, results, events, attempts, lines = self.run_runner(d, split=4, crash=True)
            started = [e["test"] for e in lines if e["event"] == "start"]
            ended = [e["test"] for e in lines if e["event"] == "end"]
            self.assertEqual(started.count("SelfTest.CrashesOnRequest"), 1)
            self.assertNotIn("SelfTest.CrashesOnRequest", ended)
            self.assertEqual(len(ended), 5)
            crashed = [a for a in attempts if a["exit_code"] > 1]
            self.assertEqual(len(crashed), 1, attempts)
            self.assertEqual(crashed[0]["attempt"], 0)
            self.assertEqual(events[-1][:2], ["done", "fixture"])
            self.assertGreater(int(events[-1][2]), 1)  # the crash, worse than the XPASS

    def test_a_binary_that_must_run_alone_has_nothing_beside_it(self):
        listed = subprocess.run([FIXTURE_ALONE, "--gtest_list_tests"], capture_output=True, text=True).stdout
        self.assertEqual(listed.splitlines()[0], "# ringcheck: run_alone")
        with tempfile.TemporaryDirectory() as d:
            _, _, events, _, _ = self.run_runner(d, split=2, suites=(FIXTURE, FIXTURE_ALONE))
            # Each binary's events stand together: the alone one neither
            # starts while the other runs nor lets it start.
            names = [e[1] for e in events]
            self.assertEqual(len(names), 4, events)
            self.assertEqual(names[0], names[1], events)
            self.assertEqual(names[2], names[3], events)
            self.assertEqual(sorted({names[0], names[2]}), ["fixture", "fixture_alone"])

    def test_split_zero_runs_the_binary_whole(self):
        with tempfile.TemporaryDirectory() as d:
            _, _, _, attempts, lines = self.run_runner(d, split=0)
            self.assertEqual([a["part"] for a in attempts], ["1/1"])
            self.assertEqual(len([e for e in lines if e["event"] == "end"]), 6)


if __name__ == "__main__":
    unittest.main()
