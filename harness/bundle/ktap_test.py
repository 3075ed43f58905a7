#!/usr/bin/env python3
"""ringcheck-runner --format ktap, read by an independent KTAP parser
(ktap_check.py), and that parser against the examples of
Documentation/dev-tools/ktap.rst.

    python3 ktap_test.py PATH_TO_RUNNER
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap_check  # noqa: E402

RUNNER = None

# The examples of Documentation/dev-tools/ktap.rst (format examples, as data).
SPEC_NESTED = """KTAP version 1
1..1
  KTAP version 1
  1..2
  ok 1 test_1
  not ok 2 test_2
# example failed
not ok 1 example
"""

SPEC_TWO_LEVELS = """KTAP version 1
1..2
  KTAP version 1
  1..2
    KTAP version 1
    1..2
    not ok 1 test_1
    ok 2 test_2
  not ok 1 test_3
  ok 2 test_4 # SKIP
not ok 1 example_test_1
ok 2 example_test_2
"""

SPEC_FULL = """KTAP version 1
1..1
  KTAP version 1
  1..3
    KTAP version 1
    1..1
    # test_1: initializing test_1
    ok 1 test_1
  ok 1 example_test_1
    KTAP version 1
    1..2
    ok 1 test_1 # SKIP test_1 skipped
    ok 2 test_2
  ok 2 example_test_2
    KTAP version 1
    1..3
    ok 1 test_1
    # test_2: FAIL
    not ok 2 test_2
    ok 3 test_3 # SKIP test_3 skipped
  not ok 3 example_test_3
not ok 1 main_test
"""


class SpecExamples(unittest.TestCase):
    def test_nested(self):
        plan, tests = ktap_check.parse(SPEC_NESTED)
        self.assertEqual(plan, 1)
        self.assertEqual([(t.name, t.ok) for t in tests], [("example", False)])
        self.assertEqual([(s.name, s.ok) for s in tests[0].subtests], [("test_1", True), ("test_2", False)])
        self.assertEqual(tests[0].diagnostics, ["example failed"])

    def test_two_levels(self):
        _, tests = ktap_check.parse(SPEC_TWO_LEVELS)
        self.assertEqual([t.name for t in tests], ["example_test_1", "example_test_2"])
        inner = tests[0].subtests
        self.assertEqual([s.name for s in inner], ["test_3", "test_4"])
        self.assertEqual([s.name for s in inner[0].subtests], ["test_1", "test_2"])
        self.assertEqual(inner[1].directive, "SKIP")
        self.assertEqual(tests[1].subtests, [])

    def test_full_example(self):
        _, tests = ktap_check.parse(SPEC_FULL)
        main = tests[0]
        self.assertEqual((main.name, main.ok), ("main_test", False))
        self.assertEqual([s.name for s in main.subtests], ["example_test_1", "example_test_2", "example_test_3"])
        e1, e2, e3 = main.subtests
        self.assertEqual(e1.subtests[0].diagnostics, ["test_1: initializing test_1"])
        self.assertEqual((e2.subtests[0].directive, e2.subtests[0].diagnostic), ("SKIP", "test_1 skipped"))
        self.assertEqual([s.verdict for s in e3.subtests], ["PASS", "FAIL", "SKIP"])

    def test_result_lines(self):
        self.assertEqual(ktap_check._result("not ok 1 test # TIMEOUT 30 seconds"),
                         (False, 1, "test", "TIMEOUT", "30 seconds"))
        self.assertEqual(ktap_check._result("ok 5 check return code # rcode=0"),
                         (True, 5, "check return code", None, "rcode=0"))

    def test_rejects_broken_output(self):
        for bad in ("KTAP version 1\n1..2\nok 1 a\n",                      # plan says 2
                    "KTAP version 1\n1..2\nok 1 a\nok 3 b\n",               # numbering
                    "KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 a\n",  # no parent result
                    "1..1\nok 1 a\n"):                                      # no version line
            with self.assertRaises(ktap_check.KtapError, msg=bad):
                ktap_check.parse(bad)


SUITE = """#!/bin/sh
# A fake suite binary: writes recorder lines where harness/recorder.cc
# does, and cannot list its tests (so the runner runs it whole, by filter).
[ "$1" = --gtest_list_tests ] && exit 1
out="${RINGCHECK_RESULTS_FILE:-$RINGCHECK_RESULTS_DIR/suites/${0##*/}.jsonl}"
filter="$1"
emit() { printf '%s\\n' "$1" >>"$out"; }
"""

ALPHA = SUITE + r"""
emit '{"event":"program_start","binary":"alpha_test"}'
emit '{"event":"start","test":"Alpha.Passes"}'
emit '{"event":"end","test":"Alpha.Passes","verdict":"PASS","messages":[]}'
emit '{"event":"end","test":"AllRings/Alpha.Skips/sqpoll","verdict":"SKIP","reason":"unsupported:setup_sqpoll","messages":[]}'
emit '{"event":"end","test":"Alpha.KnownDeviation","verdict":"XFAIL","reason":"rule N1: io_nop() says \"no\" # on 5.10\tfor IOPOLL","messages":["a.cc:3: expected 0, got -EINVAL"]}'
emit '{"event":"end","test":"Alpha.Fails","verdict":"FAIL","messages":["a.cc:9: expected -EBUSY\nbut got 0","a.cc:10: second"]}'
emit '{"event":"end","test":"Alpha.Stale","verdict":"XPASS","reason":"rule N2: refused before 5.19","messages":[]}'
exit 1
"""

CRASHY = SUITE + r"""
emit '{"event":"start","test":"Crashy.Before"}'
emit '{"event":"end","test":"Crashy.Before","verdict":"PASS","messages":[]}'
case $filter in
  *Crashy.Dies*) ;;
  *) emit '{"event":"start","test":"Crashy.Dies"}'; kill -SEGV $$ ;;
esac
emit '{"event":"end","test":"Crashy.After","verdict":"PASS","messages":[]}'
exit 0
"""

SKIPPY = SUITE + r"""
emit '{"event":"end","test":"Skippy.One","verdict":"SKIP","reason":"environment:rdma (no device)","messages":[]}'
exit 0
"""

DEAD = "#!/bin/sh\nexit 3\n"


class RunnerKtap(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="ktap-test.", dir=os.environ.get("TEST_TMPDIR"))
        self.suites = []
        for name, text in (("alpha_test", ALPHA), ("crashy_test", CRASHY), ("skippy_test", SKIPPY),
                           ("dead_test", DEAD)):
            path = os.path.join(self.root, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
            self.suites.append(path + "@//suites/fake:" + name)
        self.results = os.path.join(self.root, "results")
        p = subprocess.run([RUNNER, "--results", self.results, "--quiet", "--format", "ktap", "--jobs", "2",
                            "--timeout", "60"] + self.suites,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.rc, self.ktap, self.err = p.returncode, p.stdout, p.stderr

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_parses_with_one_subtest_per_binary(self):
        plan, tests = ktap_check.parse(self.ktap)
        self.assertEqual(plan, 4, self.ktap)
        self.assertEqual(sorted(t.name for t in tests), ["alpha_test", "crashy_test", "dead_test", "skippy_test"])
        self.assertEqual(self.rc, 1)

    def test_verdicts_and_reasons(self):
        _, tests = ktap_check.parse(self.ktap)
        by = {t.name: t for t in tests}
        alpha = {s.name: s for s in by["alpha_test"].subtests}
        self.assertEqual({n: s.verdict for n, s in alpha.items()}, {
            "Alpha.Passes": "PASS", "AllRings/Alpha.Skips/sqpoll": "SKIP", "Alpha.KnownDeviation": "XFAIL",
            "Alpha.Fails": "FAIL", "Alpha.Stale": "XPASS"})
        self.assertEqual(alpha["AllRings/Alpha.Skips/sqpoll"].diagnostic, "unsupported:setup_sqpoll")
        self.assertEqual(alpha["Alpha.KnownDeviation"].diagnostic,
                         'rule N1: io_nop() says "no" # on 5.10 for IOPOLL')
        self.assertTrue(alpha["Alpha.KnownDeviation"].ok)
        self.assertEqual(alpha["Alpha.Fails"].diagnostics, ["a.cc:9: expected -EBUSY", "but got 0", "a.cc:10: second"])
        self.assertFalse(by["alpha_test"].ok)
        # The crash: an ERROR for the test that died, the rest once each.
        crashy = [(s.name, s.verdict) for s in by["crashy_test"].subtests]
        self.assertEqual(crashy, [("Crashy.Before", "PASS"), ("Crashy.After", "PASS"), ("Crashy.Dies", "ERROR")])
        self.assertIn("killed by signal 11", by["crashy_test"].subtests[2].diagnostic)
        self.assertFalse(by["crashy_test"].ok)
        self.assertEqual((by["skippy_test"].ok, by["skippy_test"].directive), (True, "SKIP"))
        self.assertEqual((by["dead_test"].ok, by["dead_test"].directive, by["dead_test"].subtests),
                         (False, "ERROR", []))
        self.assertIn("exited 3", by["dead_test"].diagnostic)

    def test_agrees_with_the_results_directory(self):
        _, tests = ktap_check.parse(self.ktap)
        problems = ktap_check.compare(tests, self.results)
        # The results keep the tab of the XFAIL reason; KTAP has no tabs in a line's data.
        self.assertEqual([p for p in problems if "KnownDeviation" not in p], [])

    def test_without_format_stdout_is_silent(self):
        p = subprocess.run([RUNNER, "--results", os.path.join(self.root, "r2"), "--quiet", self.suites[2]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        p = subprocess.run([RUNNER, "--results", os.path.join(self.root, "r3"), "--format", "tap", self.suites[2]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 64)


if __name__ == "__main__":
    RUNNER = os.path.abspath(sys.argv.pop(1))
    unittest.main()
