#!/usr/bin/env python3
"""./ringcheck report: results directories -> report.json, report.md, report.html.

Reads only results directories (see results.py); never runs a test.
Exit status: 0 no FAIL, XPASS or ERROR in any kernel, 1 some, 3 an input cannot be
read, 4 the report cannot be written (the earlier one, if any, is left
whole), 64 bad usage.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import html_report  # noqa: E402
import kcidb  # noqa: E402
import md_report  # noqa: E402
import matrix  # noqa: E402
import results  # noqa: E402
import spec_rules  # noqa: E402

SCHEMA = "ringcheck.report/3"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANNOT_WRITE, EXIT_USAGE = 0, 1, 3, 4, 64


def _test(t):
    """A test as report.json lists it: results.py's fields plus the primary
    rule, the skip reason and the first message spelled out."""
    return dict(t, rule=t["rules"][0] if t["rules"] else None,
                skip_reason=t["reason"] if t["verdict"] == "SKIP" else None,
                message=t["messages"][0] if t["messages"] else None)


def uncovered_rules(root):
    """rule id -> (UNCOVERED.md path, reason) from suites/*/UNCOVERED.md."""
    out = {}
    suites = os.path.join(root, "suites")
    if not os.path.isdir(suites):
        return out
    line_re = spec_rules.re.compile(r"^\s*-\s*(" + spec_rules.RULE_ID_PATTERN + r")\s*:\s*(\S.*)$")
    for name in sorted(os.listdir(suites)):
        path = os.path.join(suites, name, "UNCOVERED.md")
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = line_re.match(line)
                    if m:
                        out[m.group(1)] = (f"suites/{name}/UNCOVERED.md", m.group(2))
    return out


def rule_texts(named, spec_dir):
    """The text of every rule in `named` (ids), from spec/*.md."""
    if not spec_dir:
        return {}
    try:
        spec = spec_rules.read_spec(spec_dir)
    except (OSError, ValueError):
        return {}
    return {r: {"text": spec[r].text, "file": f"spec/{spec[r].path}", "line": spec[r].line}
            for r in sorted(named) if r in spec}


def build(kernels, spec_dir=None):
    """report.json (schema ringcheck.report/3, see reports/SCHEMA.md)."""
    kernels = matrix.order_kernels(kernels)
    test_rows = matrix.test_matrix(kernels)
    failures = matrix.failure_cards(kernels)
    known = matrix.failure_cards(kernels, verdicts=("XFAIL",))
    uncovered = uncovered_rules(os.path.dirname(spec_dir)) if spec_dir else {}
    named = {r for c in failures + known for r in c["rules"]} | set(uncovered) | {
        r for row in test_rows for r in row["rules"]}  # report.html links every rule id to its text
    return {
        "schema": SCHEMA,
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernels": [
            {
                "id": k["id"],
                "release": k["release"],
                "source": k["source"],
                "run": k["run"],
                "vm": k.get("vm"),
                "capabilities": k["capabilities"],
                "summary": k["summary"],
                "suites": k["suites"],
                "health": k["health"],
                "refused_setup_flags": refused_flags(k),
                "tests": [_test(t) for t in k["tests"]],
                "fuzz": k["fuzz"],
            }
            for k in kernels
        ],
        "features": matrix.feature_matrix(kernels),
        "tests": test_rows,
        "rules": matrix.rule_matrix(test_rows, kernels),
        "failures": failures,
        "known_deviations": known,
        # XFAILs whose expectation calls them a kernel bug (not an older
        # kernel's different but intended behaviour).
        "kernel_bugs": [c for c in known if c["reason"].lower().startswith("kernel bug")],
        "uncovered": [{"rule": r, "where": w, "reason": why} for r, (w, why) in sorted(uncovered.items())],
        "rule_texts": rule_texts(named, spec_dir),
        "disagreements": matrix.disagreements(kernels),
    }


def refused_flags(kernel):
    """Setup flags the kernel refuses even alone, with its answer."""
    caps = kernel["capabilities"] or {}
    return {name: res for name, res in sorted(caps.get("setup_flags", {}).items()) if res != "0"}


def write_all(directory, files):
    """Writes {name: text} into directory, all or nothing: every file goes to
    a temporary name first; the earlier files are kept under backup names
    until every new one is in place, and put back if a rename fails, so a
    failure never leaves a half-new report."""
    umask = os.umask(0)
    os.umask(umask)
    temps, backups, placed = {}, {}, []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            temps[name] = tmp
            os.fchmod(fd, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
        for name in files:
            target = os.path.join(directory, name)
            if os.path.isfile(target):
                backups[name] = f"{temps[name]}.old"
                os.link(target, backups[name])
        try:
            for name, tmp in temps.items():
                os.replace(tmp, os.path.join(directory, name))
                placed.append(name)
        except OSError:
            for name in placed:
                if name in backups:
                    os.replace(backups.pop(name), os.path.join(directory, name))
                else:
                    os.unlink(os.path.join(directory, name))
            raise
    finally:
        for tmp in list(temps.values()) + list(backups.values()):
            if os.path.lexists(tmp):
                os.unlink(tmp)


def main(argv):
    parser = argparse.ArgumentParser(
        prog="./ringcheck report",
        description="Build report.json, report.md and report.html from one or more results directories.")
    parser.add_argument("dirs", nargs="+", metavar="RESULTS_DIR")
    parser.add_argument("--out", default=".", help="where to write the report (default: .)")
    parser.add_argument("--summary", action="store_true", help="print a short summary per kernel")
    parser.add_argument("--kcidb", metavar="FILE", help="also write a KCIDB I/O v5 document (reports/kcidb.py)")
    parser.add_argument("--origin", default="ringcheck", help="the KCIDB origin of --kcidb (default: ringcheck)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_USAGE

    try:
        kcidb.check_origin(args.origin)
    except kcidb.OriginError as e:
        print(f"ringcheck report: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        kernels = [results.load(d) for d in args.dirs]
    except results.ResultsError as e:
        print(f"ringcheck report: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = build(kernels, spec_rules.find_spec_dir(os.path.dirname(os.path.abspath(__file__))))
    try:
        os.makedirs(args.out, exist_ok=True)
        write_all(args.out, {"report.json": json.dumps(report, indent=1) + "\n",
                             "report.md": md_report.render(report),
                             "report.html": html_report.render(report)})
        if args.kcidb:
            kdir = os.path.dirname(os.path.abspath(args.kcidb))
            write_all(kdir, {os.path.basename(args.kcidb): json.dumps(kcidb.document(report, args.origin), indent=1) + "\n"})
    except OSError as e:
        print(f"ringcheck report: cannot write the report in {args.out}: {e.strerror}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
    if args.summary:
        for k in kernels:
            print(md_report.summary_line(k))
            for t in k["tests"]:
                if t["verdict"] in results.FAILING:
                    first = t["messages"][0] if t["messages"] else ""
                    print(f"  {t['verdict']} {t['name']}: {first}")
        print(f"report: {os.path.join(args.out, 'report.html')} (and report.md, report.json)")
    bad = any(k["summary"][v] for k in kernels for v in results.FAILING)
    return EXIT_FAILED if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
