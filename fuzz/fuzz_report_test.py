#!/usr/bin/env python3
"""fuzz_report.py writes valid JSON whatever an oracle message holds."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_report.py")


class FuzzReportTest(unittest.TestCase):
    def test_awkward_strings_survive(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as d:
            targets, crashes = os.path.join(d, "t.tsv"), os.path.join(d, "c.tsv")
            with open(targets, "w") as f:
                f.write("sqe\t100\t50\t30\t7\t3\t60\tfds=3 rings=1 \t\t0\n")
            oracle = 'ORACLE x: "quoted" \\backslash\\ | pipe \x01 \u00e9'
            with open(crashes, "w") as f:
                f.write(f"sqe\tsqe-abc\t{oracle}\t2026-01-01\t{d}/in\t{d}/repro.cc\n")
            rc = subprocess.run([sys.executable, SCRIPT, d, "2026-01-01T00:00:00Z", "60", "6.18",
                                 'a "known" one', "1", targets, crashes]).returncode
            self.assertEqual(rc, 0)
            with open(os.path.join(d, "fuzz-report.json")) as f:
                report = json.load(f)
            t = report["targets"][0]
            self.assertEqual((t["runs"], t["fds_at_end"]), (100, ""))
            self.assertEqual(t["crashes"][0]["oracle"], oracle)
            with open(os.path.join(d, "fuzz-report.md")) as f:
                self.assertIn("\\| pipe", f.read())

    def test_unreproduced_are_listed_apart(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as d:
            paths = {n: os.path.join(d, n) for n in ("t", "c", "u", "w")}
            with open(paths["t"], "w") as f:
                f.write("sqe\t100\t50\t30\t7\t3\t60\t\t\t0\n")
            open(paths["c"], "w").close()
            with open(paths["u"], "w") as f:
                f.write(f"sqe\tORACLE unknown-user-data: a CQE carries user_data no request of this input has | x\t{d}/u/in\t{d}/u/log\n")
            with open(paths["w"], "w") as f:
                f.write("sqe\twaited\t12\nsqe\tprocesses\t3\n")
            rc = subprocess.run([sys.executable, SCRIPT, d, "2026-01-01T00:00:00Z", "60", "6.18", "", "0",
                                 paths["t"], paths["c"], paths["u"], paths["w"]]).returncode
            self.assertEqual(rc, 0)
            with open(os.path.join(d, "fuzz-report.json")) as f:
                report = json.load(f)
            self.assertEqual(report["targets"][0]["crashes"], [])
            self.assertEqual(report["unreproduced"][0]["oracle"].split(":")[0], "ORACLE unknown-user-data")
            self.assertEqual(report["targets"][0]["where_time_goes"], {"waited": 12, "processes": 3})
            with open(os.path.join(d, "fuzz-report.md")) as f:
                md = f.read()
            self.assertIn("## Crashes that did not reproduce alone", md)
            self.assertIn("No crashes.", md)

    def test_bad_usage_is_64(self):
        self.assertEqual(subprocess.run([sys.executable, SCRIPT, "x"], stderr=subprocess.DEVNULL).returncode, 64)


if __name__ == "__main__":
    unittest.main()
