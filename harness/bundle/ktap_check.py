#!/usr/bin/env python3
"""A KTAP version 1 parser, written from Documentation/dev-tools/ktap.rst
alone (not from the runner that prints KTAP), and a checker of ringcheck's
KTAP against the results directory it came with.

    ktap_check.py KTAP_FILE [--results DIR]

Parses KTAP_FILE strictly (version lines, plans that match the number of
results, numbers from 1 in steps of 1, indentation of two spaces per level,
no '#' in descriptions), prints one line per top-level test, and with
--results checks that every test of DIR/suites/*.jsonl appears under its
binary with the same verdict and, for SKIP and XFAIL, the same reason.
Exit status: 0 valid (and matching), 1 not, 64 bad usage.
"""

import json
import os
import re
import sys

VERSION_RE = re.compile(r"^(KTAP version 1|TAP version 13|TAP version 14)$")
PLAN_RE = re.compile(r"^1\.\.(\d+)(?:\s+#\s*(.*))?$")
RESULT_RE = re.compile(r"^(ok|not ok) (\d+)(?: ([^#]*?))?\s*(?:(?<!\\)# ?(.*))?$")
DIRECTIVES = ("SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR")


class KtapError(Exception):
    pass


class Test:
    def __init__(self, ok, number, name, directive, diagnostic, subtests, diagnostics, plan):
        self.ok, self.number, self.name = ok, number, name
        self.directive, self.diagnostic = directive, diagnostic
        self.subtests, self.diagnostics, self.plan = subtests, diagnostics, plan

    @property
    def verdict(self):
        """ringcheck's verdict for a result line."""
        if self.directive == "SKIP":
            return "SKIP"
        if self.directive == "XFAIL":
            return "XFAIL" if self.ok else "FAIL"
        if self.directive in ("ERROR", "TIMEOUT"):
            return "ERROR"
        if not self.ok and self.diagnostic.startswith("XPASS"):
            return "XPASS"
        return "PASS" if self.ok else "FAIL"


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _result(text):
    m = RESULT_RE.match(text)
    if not m:
        return None
    ok, number, name, rest = m.group(1) == "ok", int(m.group(2)), (m.group(3) or "").strip(), m.group(4)
    directive, diagnostic = None, ""
    if rest is not None:
        word, _, tail = rest.strip().partition(" ")
        if word.upper() in DIRECTIVES:
            directive, diagnostic = word.upper(), tail.strip()
        else:
            diagnostic = rest.strip()
    return ok, number, name, directive, diagnostic


def parse_block(lines, i, depth):
    """Parses the block whose version line is lines[i] at `depth` levels of
    indentation. Returns (plan, tests, i past the block)."""
    pad = "  " * depth
    if i >= len(lines) or not lines[i].startswith(pad) or not VERSION_RE.match(lines[i][len(pad):]):
        raise KtapError(f"line {i + 1}: expected a version line at depth {depth}")
    i += 1
    plan, skip_all = None, None
    if i < len(lines) and lines[i].startswith(pad) and PLAN_RE.match(lines[i][len(pad):]):
        m = PLAN_RE.match(lines[i][len(pad):])
        plan, skip_all = int(m.group(1)), m.group(2)
        i += 1
    tests, pending_sub, diags = [], None, []
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        ind = _indent(line)
        body = line[ind:]
        if body.startswith("#") and ind < len(pad):
            break  # a diagnostic of the parent, before its result line
        if body.startswith("#"):
            diags.append(body[1:].strip())
            i += 1
            continue
        if ind == len(pad) + 2 and VERSION_RE.match(body):
            if pending_sub is not None:
                raise KtapError(f"line {i + 1}: a second subtest block before its parent's result")
            pending_sub = parse_block(lines, i, depth + 1)
            i = pending_sub[2]
            continue
        if ind < len(pad):
            break  # the parent's result line
        r = _result(body) if ind == len(pad) else None
        if r is None:
            if ind == len(pad) and VERSION_RE.match(body):
                break  # a following top-level document
            i += 1  # an unknown line: allowed, ignored
            continue
        ok, number, name, directive, diagnostic = r
        if number != len(tests) + 1:
            raise KtapError(f"line {i + 1}: test number {number}, expected {len(tests) + 1}")
        sub_plan, subtests = (pending_sub[0], pending_sub[1]) if pending_sub else (None, [])
        tests.append(Test(ok, number, name, directive, diagnostic, subtests, diags, sub_plan))
        pending_sub, diags = None, []
        i += 1
    if pending_sub is not None:
        raise KtapError(f"subtest block at depth {depth + 1} has no result line for its parent")
    if plan is not None and plan != len(tests):
        raise KtapError(f"depth {depth}: plan 1..{plan} but {len(tests)} results")
    return plan, tests, i


def parse(text):
    lines = [l.rstrip("\r") for l in text.split("\n")]
    start = next((i for i, l in enumerate(lines) if VERSION_RE.match(l)), None)
    if start is None:
        raise KtapError("no KTAP version line")
    plan, tests, _ = parse_block(lines, start, 0)
    return plan, tests


def results_verdicts(directory):
    """binary -> test -> (verdict, reason) from a results directory."""
    out = {}
    suites = os.path.join(directory, "suites")
    for f in sorted(os.listdir(suites)):
        if not f.endswith(".jsonl"):
            continue
        tests, open_tests = {}, []
        with open(os.path.join(suites, f), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("event") == "start":
                    open_tests.append(e["test"])
                elif e.get("event") == "end":
                    if e["test"] in open_tests:
                        open_tests.remove(e["test"])
                    tests[e["test"]] = (e["verdict"], e.get("reason", ""))
        for t in open_tests:
            tests.setdefault(t, ("ERROR", ""))
        out[f[:-6]] = tests
    return out


def compare(tests, directory):
    problems = []
    expected = results_verdicts(directory)
    seen = {t.name: t for t in tests}
    for binary, cases in expected.items():
        if binary not in seen:
            problems.append(f"{binary}: in the results, not in the KTAP")
            continue
        got = {s.name: s for s in seen[binary].subtests}
        for name, (verdict, reason) in cases.items():
            s = got.get(name)
            if s is None:
                problems.append(f"{binary} {name}: missing from the KTAP")
            elif s.verdict != verdict:
                problems.append(f"{binary} {name}: KTAP says {s.verdict}, the results {verdict}")
            elif verdict in ("SKIP", "XFAIL") and s.diagnostic != " ".join(reason.split("\n")):
                problems.append(f"{binary} {name}: reason {s.diagnostic!r}, the results {reason!r}")
    return problems


def main(argv):
    args = [a for a in argv if a != "--results"]
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--results"):
        print(__doc__.strip(), file=sys.stderr)
        return 64
    with open(argv[0], encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        plan, tests = parse(text)
    except KtapError as e:
        print(f"ktap_check: invalid KTAP: {e}", file=sys.stderr)
        return 1
    for t in tests:
        counts = {}
        for s in t.subtests:
            counts[s.verdict] = counts.get(s.verdict, 0) + 1
        print(f"{'ok' if t.ok else 'not ok'} {t.name}: {len(t.subtests)} tests "
              + " ".join(f"{v}={n}" for v, n in sorted(counts.items())))
    if len(argv) == 3:
        problems = compare(tests, argv[2])
        for p in problems[:50]:
            print(f"ktap_check: {p}", file=sys.stderr)
        if problems:
            return 1
        print(f"ktap_check: {sum(len(t.subtests) for t in tests)} tests agree with {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
