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


if __name__ == "__main__":
    unittest.main()
