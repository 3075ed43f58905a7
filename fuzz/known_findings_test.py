#!/usr/bin/env python3
"""fuzz/known-findings (what the nightly job steps around) and the finding
directories (fuzz/sqe/findings/<id>/finding.json, what --replay runs) are
one list: every id in one is in the other, and every program a finding
names is built by fuzz/sqe/findings/BUILD. Each finding names the rule of
spec/ it breaks, and an expectation calls that rule a kernel bug, so the
fuzz job's list and the conformance verdicts say the same thing."""

import glob
import json
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class KnownFindingsTest(unittest.TestCase):
    def test_one_list(self):
        with open(os.path.join(HERE, "known-findings")) as f:
            known = {l.strip() for l in f if l.strip() and not l.startswith("#")}
        import sys
        sys.path.insert(0, os.path.join(HERE, "..", "reports"))
        from spec_rules import read_spec
        rules = read_spec(os.path.join(HERE, "..", "spec"))
        reasons = []
        for path in glob.glob(os.path.join(HERE, "..", "expectations", "*.txt")):
            with open(path) as f:
                for line in f:
                    parts = line.split(None, 2)
                    if len(parts) == 3 and not line.startswith("#"):
                        reasons.append(parts[2].removeprefix("flaky ").strip())
        dirs = {}
        for path in glob.glob(os.path.join(HERE, "*", "findings", "*", "finding.json")):
            with open(path) as f:
                dirs[os.path.basename(os.path.dirname(path))] = json.load(f)
        self.assertEqual(known, set(dirs), "fuzz/known-findings and fuzz/*/findings/<id>/ differ")
        with open(os.path.join(HERE, "sqe", "findings", "BUILD")) as f:
            built = set(re.findall(r'name = "([^"]+)"', f.read()))
        for fid, finding in dirs.items():
            self.assertEqual(finding["id"], fid)
            self.assertIn(finding["program"], built, f"{fid}: program {finding['program']} is not built")
            rule = finding.get("rule", "")
            self.assertTrue(rule in rules, f"{fid}: names rule {rule!r}, which spec/ does not define")
            self.assertTrue(any(f"rule {rule}:" in r and r.startswith("kernel bug") for r in reasons),
                            f"{fid}: no expectation calls rule {rule} a kernel bug")


if __name__ == "__main__":
    unittest.main()
