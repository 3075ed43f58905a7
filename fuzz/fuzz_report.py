#!/usr/bin/env python3
"""fuzz_report.py OUT STARTED DURATION_S KERNEL KNOWN NEW_CRASHES TARGETS_TSV CRASHES_TSV [UNREPRODUCED_TSV [WHERE_TSV]]

Writes OUT/fuzz-report.json (schema ringcheck.fuzz/1) and OUT/fuzz-report.md
for fuzz/nightly.sh from two tab-separated files it kept while fuzzing:
  targets: name runs execs_per_s sqes_per_s features corpus_size duration_s
           fds_at_1m fds_at_end fd_growth_within_a_process
  crashes: target id oracle first_seen input reproducer
  unreproduced (optional): target oracle input log -- crashes that did not
           reproduce when replayed alone: listed apart, never counted as new
  where (optional): target key value -- where the time went (counters of the
           fuzzer's stats lines, summed over its processes; see fuzz/README.md)
Every value goes through a JSON serializer, whatever characters an oracle
message holds. Each file is written under a temporary name and renamed.
"""

import json
import os
import sys

TARGET_FIELDS = ("name", "runs", "execs_per_s", "sqes_per_s", "features", "corpus_size", "duration_s",
                 "fds_at_1m", "fds_at_end", "fd_growth_within_a_process")
NUMERIC = {"runs", "execs_per_s", "sqes_per_s", "features", "corpus_size", "duration_s",
           "fd_growth_within_a_process"}
CRASH_FIELDS = ("target", "id", "oracle", "first_seen", "input", "reproducer")
UNREPRODUCED_FIELDS = ("target", "oracle", "input", "log")
WHERE_FIELDS = ("target", "key", "value")


def rows(path, fields):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) != len(fields):
                continue
            row = dict(zip(fields, cells))
            for key in NUMERIC & set(row):
                try:
                    row[key] = int(row[key])
                except ValueError:
                    row[key] = 0
            out.append(row)
    return out


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    if len(argv) not in (9, 10, 11):
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 64
    out, started, duration_s, kernel, known, new_crashes, targets_tsv, crashes_tsv = argv[1:9]
    targets = rows(targets_tsv, TARGET_FIELDS)
    crashes = rows(crashes_tsv, CRASH_FIELDS)
    unreproduced = rows(argv[9], UNREPRODUCED_FIELDS) if len(argv) > 9 else []
    where = rows(argv[10], WHERE_FIELDS) if len(argv) > 10 else []
    for t in targets:
        t["crashes"] = [{k: c[k] for k in CRASH_FIELDS if k != "target"} for c in crashes if c["target"] == t["name"]]
        counters = {w["key"]: w["value"] for w in where if w["target"] == t["name"]}
        if counters:
            t["where_time_goes"] = {k: int(v) if v.isdigit() else v for k, v in counters.items()}
    report = {"schema": "ringcheck.fuzz/1", "started": started, "duration_s": int(duration_s),
              "kernel": kernel, "known_findings_stepped_around": known, "targets": targets,
              "unreproduced": unreproduced}
    write(os.path.join(out, "fuzz-report.json"), json.dumps(report, indent=1) + "\n")

    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    md = ["# ringcheck fuzz report", "",
          f"Started {started} on kernel {kernel}, {duration_s}s in all, {new_crashes} new crash(es).", "",
          f"Known findings stepped around (fuzz/known-findings): {known or 'none'}.", "",
          "| target | runs | execs/s | SQEs/s | features | corpus | seconds | fds/rings at 1 min | at end | fd growth in a process |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for t in targets:
        md.append("| " + " | ".join(cell(t[k] if t[k] != "" else "n/a") for k in TARGET_FIELDS) + " |")
    md.append("")
    for t in targets:
        if t.get("where_time_goes"):
            md.append(f"Where {cell(t['name'])}'s time went: " +
                      ", ".join(f"{cell(k)} {cell(v)}" for k, v in t["where_time_goes"].items()) + ".")
            md.append("")
    if crashes:
        md += ["| target | crash | oracle | first seen | reproducer |", "|---|---|---|---|---|"]
        for c in crashes:
            repro = os.path.relpath(c["reproducer"], out) if c["reproducer"].startswith(out) else c["reproducer"]
            md.append(f"| {cell(c['target'])} | `{cell(c['id'])}` | {cell(c['oracle'])} | {cell(c['first_seen'])} | {cell(repro)} |")
    else:
        md.append("No crashes.")
    md += ["", "## Crashes that did not reproduce alone", "",
           "Replayed alone, these inputs ran clean: they need earlier inputs (or timing) to happen, and do not "
           "make the job exit 1. Each line is what an oracle said in the run; the log holds the rest.", ""]
    if unreproduced:
        for u in unreproduced:
            log = os.path.relpath(u["log"], out) if u["log"].startswith(out) else u["log"]
            md.append(f"- {cell(u['target'])}: {cell(u['oracle'])} (input {cell(os.path.relpath(u['input'], out) if u['input'].startswith(out) else u['input'])}, log {cell(log)})")
    else:
        md.append("None.")
    write(os.path.join(out, "fuzz-report.md"), "\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
