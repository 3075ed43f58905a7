#!/usr/bin/env python3
"""./ringcheck diff A B: what changed from A to B.

A and B are results directories or report.json files (of one kernel each, or
of several: then kernels are paired by release, or by position when the
releases differ, e.g. one kernel before and after a patch). Per test:
regressions (PASS -> FAIL, ERROR or XPASS), fixes (FAIL or ERROR -> PASS,
and XFAIL -> XPASS: a known deviation that went away), newly
failing (a test that did not run, or SKIPped, in A and fails in B), still
failing; per feature of the capability snapshots: newly supported, newly
unsupported.

Exit status: 0 no regression, 1 at least one regression, 2 an input is
unreadable or incomplete (a guest that panicked or hung, a run without
tests), 64 bad usage.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2, 64
BAD = ("FAIL", "ERROR", "XPASS")


class InputError(Exception):
    """An input that cannot be compared; the message is one sentence."""


def load(path):
    """A list of kernels (dicts with release, source, tests, capabilities, vm)."""
    if os.path.isdir(path):
        try:
            return [results.load(path)]
        except results.ResultsError as e:
            raise InputError(str(e))
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist")
    except (OSError, ValueError) as e:
        raise InputError(f"{path} is not a readable report.json ({e})")
    if not isinstance(report, dict) or not str(report.get("schema", "")).startswith("ringcheck.report/"):
        raise InputError(f"{path} is not a ringcheck report (no ringcheck.report schema)")
    kernels = report.get("kernels") or []
    if not kernels:
        raise InputError(f"{path} has no kernels")
    for k in kernels:  # report/2 marked a stale expectation as PASS + unexpected_pass
        for t in k.get("tests", []):
            if t.get("verdict") == "PASS" and t.get("unexpected_pass"):
                t["verdict"] = "XPASS"
    return kernels


def incomplete(kernel, path):
    vm = kernel.get("vm") or kernel.get("run", {}).get("vm")
    if vm and vm.get("status", "ok") != "ok":
        return f"{path} is incomplete: on {kernel['release']} {vm.get('message') or 'the guest ' + vm['status']}"
    if not kernel.get("tests"):
        return f"{path} is incomplete: no test ran on {kernel['release']}"
    return None


def pair(a_kernels, b_kernels):
    by_release = {k["release"]: k for k in b_kernels}
    if all(k["release"] in by_release for k in a_kernels):
        return [(k, by_release[k["release"]]) for k in a_kernels]
    if len(a_kernels) == len(b_kernels):
        return list(zip(a_kernels, b_kernels))
    raise InputError(f"cannot pair {len(a_kernels)} kernel(s) with {len(b_kernels)}: "
                     "give one kernel on each side, or the same releases")


def _features(kernel):
    return {f["id"]: f["supported"] for f in (kernel.get("capabilities") or {}).get("features", [])}


def compare(a, b):
    ta = {(t["binary"], t["name"]): t for t in a["tests"]}
    tb = {(t["binary"], t["name"]): t for t in b["tests"]}
    out = {"a": {"release": a["release"], "source": a.get("source", "")},
           "b": {"release": b["release"], "source": b.get("source", "")},
           "regressions": [], "fixes": [], "newly_failing": [], "still_failing": [],
           "newly_supported": [], "newly_unsupported": []}
    for key in sorted(set(ta) | set(tb)):
        va = ta[key]["verdict"] if key in ta else None
        vb = tb[key]["verdict"] if key in tb else None
        entry = {"binary": key[0], "test": key[1], "a": va or "absent", "b": vb or "absent",
                 "message": (tb.get(key, {}).get("messages") or [""])[0]}
        if va == "PASS" and vb in BAD:
            out["regressions"].append(entry)
        elif (va in BAD and vb == "PASS") or (va == "XFAIL" and vb == "XPASS"):
            out["fixes"].append(entry)
        elif va in BAD and vb in BAD:
            out["still_failing"].append(entry)
        elif vb in BAD:
            out["newly_failing"].append(entry)
    fa, fb = _features(a), _features(b)
    for fid in sorted(set(fa) & set(fb)):
        if not fa[fid] and fb[fid]:
            out["newly_supported"].append(fid)
        elif fa[fid] and not fb[fid]:
            out["newly_unsupported"].append(fid)
    return out


def text(diff):
    a, b = diff["a"], diff["b"]
    lines = [f"{a['release']} ({a['source']}) -> {b['release']} ({b['source']})"]
    for key, title in (("regressions", "regressions (PASS -> FAIL/ERROR/XPASS)"), ("fixes", "fixes"),
                       ("newly_failing", "newly failing (did not pass before)"), ("still_failing", "still failing")):
        lines.append(f"  {title}: {len(diff[key])}")
        for e in diff[key]:
            lines.append(f"    {e['test']} ({e['binary']}): {e['a']} -> {e['b']}"
                         + (f"  {e['message'][:160]}" if e["message"] and e["b"] in BAD else ""))
    for key, title in (("newly_supported", "newly supported"), ("newly_unsupported", "newly unsupported")):
        lines.append(f"  {title}: {len(diff[key])}" + (": " + ", ".join(diff[key]) if diff[key] else ""))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(prog="./ringcheck diff", description=__doc__.split("\n\n")[0],
                                     epilog="Exit status: 0 no regression, 1 a regression, "
                                            "2 an input unreadable or incomplete, 64 bad usage.")
    parser.add_argument("a", metavar="A", help="results directory or report.json (before)")
    parser.add_argument("b", metavar="B", help="results directory or report.json (after)")
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    try:
        pairs = pair(load(args.a), load(args.b))
    except InputError as e:
        print(f"ringcheck diff: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    diffs = [compare(a, b) for a, b in pairs]
    if args.json:
        print(json.dumps({"schema": "ringcheck.diff/1", "pairs": diffs}, indent=1))
    else:
        print("\n".join(text(d) for d in diffs))
    problems = [p for a, b in pairs for p in (incomplete(a, args.a), incomplete(b, args.b)) if p]
    for p in problems:
        print(f"ringcheck diff: {p}", file=sys.stderr)
    if problems:
        return EXIT_BAD_INPUT
    return EXIT_REGRESSION if any(d["regressions"] for d in diffs) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
