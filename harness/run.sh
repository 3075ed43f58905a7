#!/usr/bin/env bash
# ./ringcheck run: every conformance suite on the running kernel, one results
# directory, and the report made from it.
#
# Results directory layout (what reports/report.py reads):
#   run.json            this run: kernel, source, times, each binary's end
#   capabilities.json   the capability snapshot (harness/probe)
#   suites/<binary>.jsonl  the recorder's events, one JSON object a line
#   logs/<binary>.log   each binary's own output
#   report.json, report.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

readonly EXIT_OK=0 EXIT_FAILED=1 EXIT_CANNOT_RUN=2 EXIT_USAGE=64
readonly BINARY_TIMEOUT=${RINGCHECK_BINARY_TIMEOUT:-300}

say() { printf 'ringcheck run: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

usage() {
  cat <<'EOF'
usage: ./ringcheck run [--out DIR] [--jobs N] [--filter GTEST_FILTER] [--suite NAME]...

Runs every conformance suite on the running kernel and writes one results
directory (default: results/<kernel release>) with the gtest verdicts, the
capability snapshot, kernel health, and report.json / report.md.

--suite NAME (repeatable, e.g. --suite nop_test) runs only those suite
binaries; --filter passes a GoogleTest filter to every binary.
N test processes run at once (default 8: tests mostly wait on the kernel,
not on a core); a suite binary of more than 50 tests runs as several
processes of at most 50 tests each, so no one binary decides the run's
length. A suite tagged run_alone runs with nothing beside it.
An existing DIR is kept: it is renamed to DIR.<its time> first.

Exit status: 0 nothing FAILed, XPASSed or ERRORed, 1 something did, 2 could
not run (io_uring unavailable, build failure, unwritable output), 64 bad usage.
EOF
}

out="" jobs=8 filter="*" only=()
while (($# > 0)); do
  case "$1" in
    --out)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--out needs a directory"
      out=$2
      shift 2
      ;;
    --jobs)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die $EXIT_USAGE "--jobs needs a positive number"
      jobs=$2
      shift 2
      ;;
    --suite)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--suite needs a suite binary's name (nop_test)"
      only+=("$2")
      shift 2
      ;;
    --filter)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--filter needs a gtest filter"
      filter=$2
      shift 2
      ;;
    -h | --help)
      usage
      exit $EXIT_OK
      ;;
    *) die $EXIT_USAGE "unknown argument '$1' (try --help)" ;;
  esac
done

release=$(uname -r)
[[ -n $out ]] || out="results/$release"

# Build the probe and every suite binary.
say "building the suites"
if ! bazel build --noshow_progress //harness:probe //harness:runner //suites/... >/tmp/ringcheck-build.$$.log 2>&1; then
  tail -n 20 /tmp/ringcheck-build.$$.log >&2
  die $EXIT_CANNOT_RUN "the build failed (full log: /tmp/ringcheck-build.$$.log)"
fi
rm -f /tmp/ringcheck-build.$$.log
bin_dir=$(bazel info bazel-bin 2>/dev/null)
mapfile -t labels < <(bazel query --noshow_progress 'attr(tags, "conformance", tests(//suites/...))' 2>/dev/null | sort)
((${#labels[@]} > 0)) || die $EXIT_CANNOT_RUN "no conformance suites found under //suites"
if ((${#only[@]} > 0)); then
  chosen=()
  for name in "${only[@]}"; do
    match=$(printf '%s\n' "${labels[@]}" | grep -x ".*:$name" || true)
    [[ -n $match ]] || die $EXIT_USAGE "no suite binary named '$name' (they are: $(printf '%s\n' "${labels[@]##*:}" | paste -sd' '))"
    chosen+=("$match")
  done
  labels=("${chosen[@]}")
fi

# Work in a fresh directory beside the destination; move it into place at the end.
parent=$(dirname "$out")
mkdir -p "$parent" 2>/dev/null || die $EXIT_CANNOT_RUN "cannot create $parent"

# An existing results directory is kept under a name with its time.
keep_earlier() {
  [[ -e $out ]] || return 0
  local stamp
  stamp=$(date -u -r "$out" +%Y%m%dT%H%M%SZ 2>/dev/null || date -u +%Y%m%dT%H%M%SZ)
  mv "$out" "$out.$stamp" || die $EXIT_CANNOT_RUN "cannot move the earlier $out aside"
  say "earlier results kept as $out.$stamp"
}
work=$(mktemp -d "$parent/.ringcheck-run.XXXXXX" 2>/dev/null) || die $EXIT_CANNOT_RUN "cannot write in $parent"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/suites" "$work/logs"

probe_rc=0
"$bin_dir/harness/probe" --out "$work/capabilities.json" >"$work/logs/probe.log" 2>&1 || probe_rc=$?
if ((probe_rc == 3)); then
  # io_uring_setup itself fails: say why in one sentence, and leave a results
  # directory whose report says so too.
  why=$(python3 "$ROOT/reports/unavailable.py" "$work/capabilities.json") ||
    why="io_uring_setup fails (see capabilities.json)"
  python3 - "$work/run.json" "$release" "$why" <<'EOF'
import json, sys
path, release, why = sys.argv[1:]
json.dump({"schema": "ringcheck.run/1", "kernel_release": release, "source": "host",
           "io_uring_unavailable": why}, open(path, "w"), indent=1)
EOF
  keep_earlier
  mv "$work" "$out" && trap - EXIT
  python3 "$ROOT/reports/report.py" "$out" --out "$out" >/dev/null 2>&1 || true
  die $EXIT_CANNOT_RUN "io_uring cannot be used on this kernel: $why (report: $out/report.md)"
fi
((probe_rc == 0)) || die $EXIT_CANNOT_RUN "the capability probe failed (exit $probe_rc; log: $work/logs/probe.log)"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_ns=$(date +%s%N)

say "running ${#labels[@]} suites on Linux $release"
suites=()
for label in "${labels[@]}"; do
  suites+=("$bin_dir/$(sed -e 's|^//||' -e 's|:|/|' <<<"$label")@$label")
done
# The runner restarts a binary past a test that crashed it; its exit status
# is the report's to judge, so it is not checked here beyond "could run".
runner_rc=0
"$bin_dir/harness/runner" --results "$work" --expectations "$ROOT/expectations" \
  --timeout "$BINARY_TIMEOUT" --jobs "$jobs" --filter "$filter" --quiet "${suites[@]}" || runner_rc=$?
((runner_rc <= 1)) || die $EXIT_CANNOT_RUN "the suite runner could not run (exit $runner_rc)"

duration_ms=$((($(date +%s%N) - start_ns) / 1000000))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$work/run.json" "$release" "$started" "$duration_ms" "$commit" <<'EOF'
import json, sys
path, release, started, duration_ms, commit = sys.argv[1:]
json.dump({"schema": "ringcheck.run/1", "kernel_release": release, "source": "host",
           "started": started, "duration_ms": int(duration_ms), "ringcheck_commit": commit},
          open(path, "w"), indent=1)
EOF

# Move into place, keeping any earlier results under a dated name.
keep_earlier
mv "$work" "$out"
trap - EXIT

rc=0
python3 "$ROOT/reports/report.py" "$out" --out "$out" --summary || rc=$?
case $rc in
  0) exit $EXIT_OK ;;
  1) exit $EXIT_FAILED ;;
  *) die $EXIT_CANNOT_RUN "the report could not be written (exit $rc)" ;;
esac
