#!/usr/bin/env python3
"""./ringcheck report: results directories -> report.json and report.md.

Reads only results directories (see results.py); never runs a test.
Exit status: 0 no FAIL or ERROR in any kernel, 1 some, 3 an input cannot be
read, 4 the report cannot be written, 64 bad usage.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

SCHEMA = "ringcheck.report/1"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_USAGE = 0, 1, 3, 4, 64


def build(kernels):
    return {
        "schema": SCHEMA,
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernels": [
            {
                "id": k["id"],
                "release": k["release"],
                "source": k["source"],
                "run": k["run"],
                "capabilities": k["capabilities"],
                "summary": k["summary"],
                "suites": k["suites"],
                "health": k["health"],
                "refused_setup_flags": refused_flags(k),
                "tests": k["tests"],
                "fuzz": k["fuzz"],
            }
            for k in kernels
        ],
    }


def refused_flags(kernel):
    """Setup flags the kernel refuses even alone, with its answer."""
    caps = kernel["capabilities"] or {}
    return {name: res for name, res in sorted(caps.get("setup_flags", {}).items()) if res != "0"}


def summary_line(k):
    s = k["summary"]
    parts = ", ".join(f"{s[v]} {v}" for v in results.VERDICTS)
    health = "RED" if k["health"]["red"] else "clean"
    return f"Linux {k['release']} ({k['source']}): {s['total']} tests: {parts}; kernel health: {health}"


def _md_escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report):
    out = ["# ringcheck report", "", f"Generated {report['generated']}.", ""]
    for k in report["kernels"]:
        caps = k["capabilities"] or {}
        s = k["summary"]
        out += [f"## Linux {k['release']} ({k['source']})", ""]
        out += [f"liburing {caps.get('liburing', '?')}, features {caps.get('features_mask', '?')}, "
                f"last opcode {caps.get('last_op', '?')}, run took "
                f"{k['run'].get('duration_ms', 0) / 1000:.1f} s.", ""]
        out += ["| suite | total | PASS | FAIL | SKIP | XFAIL | ERROR |", "|---|---|---|---|---|---|---|"]
        for name, c in sorted(k["suites"].items()):
            out.append(f"| {name} | {sum(c.values())} | " + " | ".join(str(c[v]) for v in results.VERDICTS) + " |")
        out.append("| **all** | **%d** | " % s["total"] + " | ".join(f"**{s[v]}**" for v in results.VERDICTS) + " |")
        out.append("")

        h = k["health"]
        out += ["### Kernel health", ""]
        if h["taint_before"] is None:
            out.append("- taint: not readable")
        else:
            out.append(f"- taint before {h['taint_before']}, after {h['taint_after']}")
        if not h["kernel_log_readable"]:
            out.append("- kernel log: not readable by the tests (run as root to watch it)")
        for p in h["problems"]:
            out.append(f"- kernel log: `{_md_escape(p)}`")
        out.append(f"- verdict: **{'RED' if h['red'] else 'clean'}**")
        out.append("")

        for verdict, title in (("FAIL", "Failures"), ("ERROR", "Errors"), ("XFAIL", "Known deviations (XFAIL)")):
            rows = [t for t in k["tests"] if t["verdict"] == verdict]
            if not rows:
                continue
            out += [f"### {title}", ""]
            for t in rows:
                rules = ", ".join(t["rules"]) or "-"
                out.append(f"- **{t['name']}** ({t['binary']}; rules {rules})")
                if t["reason"]:
                    out.append(f"  - reason: {_md_escape(t['reason'])}")
                for m in t["messages"]:
                    out.append(f"  - `{_md_escape(m)}`")
            out.append("")

        unexpected = [t for t in k["tests"] if t["unexpected_pass"]]
        if unexpected:
            out += ["### Unexpected passes", ""]
            out += [f"- {t['name']}: {_md_escape(t['reason'])}" for t in unexpected]
            out.append("")

        refused = k["refused_setup_flags"]
        out += ["### Setup flags this kernel refuses", ""]
        out += [f"- IORING_SETUP_{name}: {res}" for name, res in refused.items()] or ["- none"]
        out.append("")

        skips = {}
        for t in k["tests"]:
            if t["verdict"] == "SKIP":
                skips.setdefault(t["reason"], []).append(t["name"])
        if skips:
            out += ["### Skipped, by reason", "", "| reason | tests | examples |", "|---|---|---|"]
            for reason, names in sorted(skips.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                examples = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
                out.append(f"| {_md_escape(reason)} | {len(names)} | {_md_escape(examples)} |")
            out.append("")

        unsupported = [f["id"] for f in caps.get("features", []) if not f["supported"]]
        out += ["### Features the probe did not find", ""]
        out.append(", ".join(f"`{u}`" for u in unsupported) if unsupported else "none")
        out.append("")
    return "\n".join(out)


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".report-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    parser = argparse.ArgumentParser(
        prog="./ringcheck report",
        description="Build report.json and report.md from one or more results directories.")
    parser.add_argument("dirs", nargs="+", metavar="RESULTS_DIR")
    parser.add_argument("--out", default=".", help="where to write the report (default: .)")
    parser.add_argument("--summary", action="store_true", help="print a short summary per kernel")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_USAGE

    try:
        kernels = [results.load(d) for d in args.dirs]
    except results.ResultsError as e:
        print(f"ringcheck report: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = build(kernels)
    try:
        os.makedirs(args.out, exist_ok=True)
        write_atomically(os.path.join(args.out, "report.json"), json.dumps(report, indent=1) + "\n")
        write_atomically(os.path.join(args.out, "report.md"), markdown(report))
    except OSError as e:
        print(f"ringcheck report: cannot write the report in {args.out}: {e.strerror}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
    if args.summary:
        for k in kernels:
            print(summary_line(k))
            for t in k["tests"]:
                if t["verdict"] in ("FAIL", "ERROR"):
                    first = t["messages"][0] if t["messages"] else ""
                    print(f"  {t['verdict']} {t['name']}: {first}")
        print(f"report: {os.path.join(args.out, 'report.md')} (and report.json)")
    bad = any(k["summary"]["FAIL"] or k["summary"]["ERROR"] for k in kernels)
    return EXIT_FAILED if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
