#!/usr/bin/env bash
# The sqe benchmark and the nightly job's own rate, measured in one sitting so
# the two figures are comparable (issue 15: the nightly rate with --jobs 2
# should reach a third of the benchmark's mixed-corpus rate).
#
#   fuzz/bench/side_by_side.sh [SECONDS] [JOBS]     (from the repository root)
#
# 1. sqe_bench, -c opt, no sanitizers (--config=fuzz-fast): the benchmark.
# 2. sqe_bench built as the nightly job builds its fuzzers (--config=fuzz:
#    ASan, UBSan, -O1, coverage instrumentation): the same loop, the
#    nightly's code generation, one process, no libFuzzer.
# 3. the nightly job itself (fuzz/nightly.sh sqe --jobs JOBS --time SECONDS):
#    libFuzzer's mutations, the workers, their restarts and merges.
# 4. the benchmark once more, to show how much the machine's load moved.
# Prints one table with execs/s and SQEs/s of each, the ratio the issue asks
# for (against both benchmark runs), the machine's load before, during
# (mean of samples every 5 s) and after the nightly job, how idle the CPUs
# were meanwhile, and the nightly's slowest units.
set -euo pipefail

secs=${1:-120}
jobs=${2:-2}
[[ $secs =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [JOBS]" >&2; exit 64; }
[[ -f WORKSPACE && -f fuzz/nightly.sh ]] || { echo "side_by_side.sh: run me from the repository root" >&2; exit 2; }
out=${TMPDIR:-/tmp}/ringcheck-side-by-side.$$
mkdir -p "$out"

load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }  # total, idle+iowait
echo "== building (fuzz-fast -c opt, fuzz)"
bazel build -c opt --config=fuzz-fast //fuzz/bench:sqe_bench >"$out/build-fast.log" 2>&1 || { tail "$out/build-fast.log"; exit 2; }
fast=$(bazel info -c opt --config=fuzz-fast bazel-bin 2>/dev/null)/fuzz/bench/sqe_bench
cp "$fast" "$out/sqe_bench_fast"
bazel build --config=fuzz //fuzz/bench:sqe_bench //fuzz/sqe:sqe_fuzzer >"$out/build-asan.log" 2>&1 || { tail "$out/build-asan.log"; exit 2; }
cp "$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz/bench/sqe_bench" "$out/sqe_bench_asan"

load_before=$(load)
echo "== benchmark (no sanitizers), load $load_before"
TMPDIR=$out "$out/sqe_bench_fast" fuzz/sqe/corpus | tee "$out/bench-fast.txt"
echo "== benchmark loop built as the nightly builds (ASan/UBSan)"
ASAN_OPTIONS=detect_leaks=0 TMPDIR=$out "$out/sqe_bench_asan" fuzz/sqe/corpus | tee "$out/bench-asan.txt"
echo "== nightly job: sqe, --jobs $jobs, ${secs}s"
rc=0
# nightly.sh builds first (a no-op: built above): sample while it fuzzes.
( while sleep 5; do load | cut -d' ' -f1; done ) >"$out/load-samples" &
sampler=$!
ticks_before=$(cpu_ticks)
fuzz/nightly.sh sqe --jobs "$jobs" --time "$secs" --out "$out/nightly" >"$out/nightly.log" 2>&1 || rc=$?
ticks_after=$(cpu_ticks)
kill "$sampler" 2>/dev/null || true
load_after=$(load)
echo "== benchmark again (no sanitizers), load $load_after"
TMPDIR=$out "$out/sqe_bench_fast" fuzz/sqe/corpus | tee "$out/bench-fast-after.txt"
load_during=$(awk '{ s += $1; n++ } END { if (n) printf "%.2f (%d samples)", s / n, n; else print "-" }' "$out/load-samples")
idle=$(awk -v a="$ticks_before" -v b="$ticks_after" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; if (t > 0) printf "%.0f%%", 100 * (y[2] - x[2]) / t; else print "-" }')
slow=$(cat "$out"/nightly/work/sqe/fuzz.*.log 2>/dev/null | sed -nE 's/^stat::slowest_unit_time_sec: +([0-9]+)/\1/p' | sort -n | tail -1)
slow_units=$(cat "$out"/nightly/work/sqe/fuzz.*.log 2>/dev/null | grep -ac '^Slowest unit: ' || true)

mixed() { sed -nE 's/^sqe fuzzer, mixed corpus.* ([0-9]+) execs\/s$/\1/p' "$1"; }
mixed_sqes() { sed -nE 's/^sqe fuzzer, mixed corpus[^:]*: +([0-9]+) SQEs\/s.*/\1/p' "$1"; }
python3 - "$out" "$(mixed "$out/bench-fast.txt")" "$(mixed_sqes "$out/bench-fast.txt")" \
  "$(mixed "$out/bench-asan.txt")" "$(mixed_sqes "$out/bench-asan.txt")" "$jobs" "$secs" "$rc" \
  "$load_before" "$load_after" "$(mixed "$out/bench-fast-after.txt")" "$(mixed_sqes "$out/bench-fast-after.txt")" \
  "$load_during" "$idle" "${slow:-0}" "${slow_units:-0}" <<'PY'
import json, os, sys
out, bf, bfs, ba, bas, jobs, secs, rc, lb, la, bf2, bfs2, ld, idle, slow, slow_units = sys.argv[1:]
try:
    r = json.load(open(os.path.join(out, "nightly", "fuzz-report.json")))
    t = next(t for t in r["targets"] if t["name"] == "sqe")
except (OSError, StopIteration, ValueError):
    print(f"the nightly job left no report (exit {rc}); see {out}/nightly.log")
    sys.exit(2)
runs, dur = t["runs"], max(1, t["duration_s"])
rate = runs / dur
print()
print(f"{'configuration':58} {'execs/s':>10} {'SQEs/s':>10}")
print(f"{'benchmark, mixed corpus, -O2, no sanitizers':58} {bf:>10} {bfs:>10}")
print(f"{'benchmark loop, mixed corpus, nightly build (ASan/UBSan)':58} {ba:>10} {bas:>10}")
print(f"{f'nightly job, sqe, --jobs {jobs}, {secs}s (runs/duration)':58} {rate:>10.0f} {t['sqes_per_s']:>10}")
print(f"{'benchmark again, after the nightly job':58} {bf2:>10} {bfs2:>10}")
third = int(bf) / 3 if bf else 0
print(f"\nnightly / benchmark: {rate / int(bf):.2f} (target 1/3 = {third:.0f} execs/s: {'met' if rate >= third else 'NOT met'})"
      + (f"; against the benchmark run after it: {rate / int(bf2):.2f}" if bf2 else ""))
where = t.get("where_time_goes", {})
if where:
    print("where the nightly's time went: " + ", ".join(f"{k} {v}" for k, v in where.items()))
print(f"load average before {lb}, during the nightly job {ld}, after {la}; CPUs idle during it: {idle}")
print(f"nightly's slowest unit: {slow} s ({slow_units} reported as slow); files in {out}")
PY
