#!/usr/bin/env python3
"""stress.py DIR: the summary of ./ringcheck stress (harness/stress.sh).

Reads every results directory under DIR/host-*/ and DIR/guest-*/*/, groups
them by kernel release, and writes DIR/stress.json and DIR/stress.md: per
run the FAIL, XPASS and ERROR counts, and every test whose verdict differed
between runs of the same kernel. A test whose expectation lists it as
flaky (a kernel race, with its cause in the entry) may be PASS in one run and
XFAIL in another: such tests are listed apart, with the entry's reason, and
do not count. Exit 0 when there is no FAIL, XPASS or ERROR and no other
verdict changed, 1 otherwise.
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402


def result_dirs(root):
    dirs = sorted(glob.glob(os.path.join(root, "host-*", "")))
    dirs += sorted(glob.glob(os.path.join(root, "guest-*", "*", "")))
    return [d.rstrip("/") for d in dirs if os.path.isfile(os.path.join(d, "run.json"))]


# What the recorder says of a PASS whose expectation is marked flaky
# (harness/recorder.cc).
FLAKY_PASS = "lists it as flaky"


def listed_flaky(verdicts, reasons):
    """PASS in some runs, XFAIL in the others, and every PASS says its entry
    is flaky: the variation the entry announces, nothing else."""
    if set(verdicts) != {"PASS", "XFAIL"}:
        return False
    return all(FLAKY_PASS in r for v, r in zip(verdicts, reasons) if v == "PASS")


def summarize(root):
    kernels = {}
    for d in result_dirs(root):
        try:
            k = results.load(d)
        except results.ResultsError as e:
            kernels.setdefault("unreadable", {"runs": [], "verdicts": {}})["runs"].append(
                {"dir": d, "error": str(e)})
            continue
        entry = kernels.setdefault(k["release"], {"runs": [], "verdicts": {}})
        s = k["summary"]
        entry["runs"].append({"dir": os.path.relpath(d, root), "total": s["total"],
                              **{v: s[v] for v in results.VERDICTS}})
        for t in k["tests"]:
            name = f"{t['binary']}:{t['name']}"
            entry["verdicts"].setdefault(name, []).append(t["verdict"])
            entry.setdefault("reasons", {}).setdefault(name, []).append(t.get("reason", ""))
    out = {"schema": "ringcheck.stress/1", "kernels": {}}
    bad = False
    for release, entry in sorted(kernels.items()):
        runs = entry["runs"]
        changed, flaky = {}, {}
        for name, v in entry["verdicts"].items():
            if len(set(v)) == 1 and len(v) == len(runs):
                continue
            reasons = entry.get("reasons", {}).get(name, [])
            if len(v) == len(runs) and listed_flaky(v, reasons):
                flaky[name] = {"verdicts": v, "reason": next(r for verdict, r in zip(v, reasons) if verdict == "XFAIL")}
            else:
                changed[name] = v
        failing = sum(r.get(v, 0) for r in runs for v in results.FAILING)
        bad = bad or bool(changed) or failing > 0 or release == "unreadable"
        out["kernels"][release] = {"runs": runs, "changed": changed, "flaky": flaky, "failing": failing}
    return out, bad


def markdown(summary):
    lines = ["# ringcheck stress", ""]
    for release, k in summary["kernels"].items():
        lines += [f"## {release}: {len(k['runs'])} runs, {k['failing']} FAIL/XPASS/ERROR in all, "
                  f"{len(k['changed'])} tests whose verdict changed"
                  + (f" ({len(k['flaky'])} more listed as flaky)" if k["flaky"] else ""), ""]
        lines += ["| run | total | " + " | ".join(results.VERDICTS) + " |",
                  "|---|---|" + "---|" * len(results.VERDICTS)]
        for r in k["runs"]:
            if "error" in r:
                lines.append(f"| {r['dir']} | {r['error']} |")
                continue
            lines.append(f"| {r['dir']} | {r['total']} | " + " | ".join(str(r[v]) for v in results.VERDICTS) + " |")
        for name, verdicts in sorted(k["changed"].items()):
            lines.append(f"- `{name}`: {', '.join(verdicts)}")
        if k["flaky"]:
            lines += ["", "Listed as flaky (PASS or XFAIL from run to run, as their expectation entries say; not counted):"]
        for name, f in sorted(k["flaky"].items()):
            lines.append(f"- `{name}`: {', '.join(f['verdicts'])}: {f['reason']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: stress.py DIR", file=sys.stderr)
        return 64
    summary, bad = summarize(argv[1])
    if not summary["kernels"]:
        print(f"stress.py: no results directories under {argv[1]}", file=sys.stderr)
        return 2
    with open(os.path.join(argv[1], "stress.json"), "w") as f:
        json.dump(summary, f, indent=1)
    text = markdown(summary)
    with open(os.path.join(argv[1], "stress.md"), "w") as f:
        f.write(text)
    print(text)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
