#!/usr/bin/env python3
"""Rule coverage: every rule of spec/*.md is cited by a test or listed, with
its reason, in a suite's UNCOVERED.md.

  rule_coverage.py [--root DIR]   check; exit 0 when complete, 1 otherwise
  rule_coverage.py --table        print id -> tests citing it

A test cites rules with RINGCHECK_RULE("A31 A32") in its body; an
UNCOVERED.md line reads "- A30: why it cannot be shown here".
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reports"))
from spec_rules import RULE_ID_PATTERN, read_spec  # noqa: E402

CITATION = re.compile(r'RINGCHECK_RULE\(\s*"([^"]*)"\s*\)')
TEST_NAME = re.compile(r"^\s*TEST(?:_P|_F)?\(\s*(\w+)\s*,\s*(\w+)\s*\)", re.M)
UNCOVERED_LINE = re.compile(r"^\s*-\s*(" + RULE_ID_PATTERN + r")\s*:\s*(\S.*)$")


def known_rules(root):
    return {rule_id: rule.short(110) for rule_id, rule in read_spec(os.path.join(root, "spec")).items()}


def citations(root):
    """rule id -> set of 'file: Suite.Test' citing it."""
    cited = {}
    for dirpath, _, files in os.walk(os.path.join(root, "suites")):
        for name in files:
            if not name.endswith(".cc"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                source = f.read()
            tests = [(m.start(), f"{m.group(1)}.{m.group(2)}") for m in TEST_NAME.finditer(source)]
            for m in CITATION.finditer(source):
                test = next((t for pos, t in reversed(tests) if pos < m.start()), "?")
                for rule_id in m.group(1).split():
                    cited.setdefault(rule_id, set()).add(f"{os.path.relpath(path, root)}: {test}")
    return cited


def uncovered(root):
    listed, problems = {}, []
    for dirpath, _, files in os.walk(os.path.join(root, "suites")):
        if "UNCOVERED.md" not in files:
            continue
        path = os.path.join(dirpath, "UNCOVERED.md")
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = UNCOVERED_LINE.match(line)
                if m:
                    listed[m.group(1)] = (os.path.relpath(path, root), m.group(2))
                elif re.match(r"^\s*-\s*[A-Z]\.?\d+", line):
                    problems.append(f"{path}:{number}: want '- ID: reason'")
    return listed, problems


def check(root):
    rules = known_rules(root)
    cited = citations(root)
    listed, problems = uncovered(root)
    for rule_id in sorted(set(cited) | set(listed)):
        if rule_id not in rules:
            where = sorted(cited.get(rule_id, [])) or [listed[rule_id][0]]
            problems.append(f"{rule_id} is not a rule of spec/ (cited in {where[0]})")
    missing = [r for r in rules if r not in cited and r not in listed]
    for rule_id in missing:
        problems.append(f"{rule_id} is neither cited by a test nor listed in an UNCOVERED.md: {rules[rule_id]}")
    covered = sum(1 for r in rules if r in cited)
    print(f"rule coverage: {covered} of {len(rules)} rules cited by tests, "
          f"{sum(1 for r in rules if r in listed and r not in cited)} listed as not shown here, "
          f"{len(missing)} unaccounted for")
    for p in problems:
        print(p)
    return 0 if not problems else 1


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args(argv)
    if args.table:
        cited = citations(args.root)
        for rule_id in known_rules(args.root):
            print(rule_id, "; ".join(sorted(cited.get(rule_id, []))) or "-")
        return 0
    return check(args.root)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
