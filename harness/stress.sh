#!/usr/bin/env bash
# ./ringcheck stress: are the verdicts stable? Runs ./ringcheck run N times in
# a row with a CPU hog on every core, and the guest suites M times per Debian
# kernel, then counts FAIL/XPASS/ERROR per run and lists every test whose
# verdict differed between runs of the same kernel.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
readonly EXIT_OK=0 EXIT_FAILED=1 EXIT_CANNOT_RUN=2 EXIT_USAGE=64

say() { printf 'ringcheck stress: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

usage() {
  cat <<'TXT'
usage: ./ringcheck stress [--host-runs N] [--guest-runs M] [--out DIR] [--no-hog] [KERNEL...]

Runs `./ringcheck run` N times (default 20) with a busy loop on every core,
then `./ringcheck vm KERNEL...` M times (default 5; KERNELs default to
debian:5.10 debian:6.1 debian:6.12 debian:7.2; --guest-runs 0 skips them),
each into DIR/<kind>-<i>/, and writes DIR/stress.md and DIR/stress.json:
per run the FAIL, XPASS and ERROR counts, and every test whose verdict was
not the same in every run of its kernel. A test that was PASS in some runs
and XFAIL in the others, where each PASS says its expectation entry is
`flaky`, is listed apart with the entry's reason and does not count.

Exit status: 0 no FAIL/XPASS/ERROR and no other verdict that changed, 1 some,
2 could not run, 64 bad usage.
TXT
}

host_runs=20 guest_runs=5 out="" hog=1 kernels=()
while (($# > 0)); do
  case $1 in
    --host-runs | --guest-runs)
      [[ ${2:-} =~ ^[0-9]+$ ]] || die $EXIT_USAGE "$1 needs a number"
      if [[ $1 == --host-runs ]]; then host_runs=$2; else guest_runs=$2; fi
      shift 2
      ;;
    --out)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--out needs a directory"
      out=$2
      shift 2
      ;;
    --no-hog) hog=0 && shift ;;
    -h | --help) usage && exit $EXIT_OK ;;
    debian:* | */* | *.img | *vmlinuz*) kernels+=("$1") && shift ;;
    *) die $EXIT_USAGE "unknown argument '$1' (try --help)" ;;
  esac
done
((${#kernels[@]} > 0)) || kernels=(debian:5.10 debian:6.1 debian:6.12 debian:7.2)
[[ -n $out ]] || out="results/stress-$(date -u +%Y%m%dT%H%M%SZ)"
[[ -e $out ]] && die $EXIT_USAGE "$out exists already; give a new --out"
mkdir -p "$out" 2>/dev/null || die $EXIT_CANNOT_RUN "cannot create $out"

hogs=()
stop_hogs() {
  ((${#hogs[@]} == 0)) || kill "${hogs[@]}" 2>/dev/null || true
  hogs=()
}
trap stop_hogs EXIT
start_hogs() {
  ((hog)) || return 0
  local i
  for ((i = 0; i < $(nproc); i++)); do
    (while :; do :; done) &
    hogs+=($!)
  done
}

start_hogs
for ((i = 1; i <= host_runs; i++)); do
  rc=0
  ./ringcheck run --out "$out/host-$i" >"$out/host-$i.log" 2>&1 || rc=$?
  ((rc <= 1)) || { stop_hogs; die $EXIT_CANNOT_RUN "run $i could not run (exit $rc; log: $out/host-$i.log)"; }
  say "host run $i of $host_runs: $(grep -m1 '^Linux ' "$out/host-$i.log" || echo "see $out/host-$i.log")"
done
stop_hogs
for ((i = 1; i <= guest_runs; i++)); do
  rc=0
  ./ringcheck vm "${kernels[@]}" --out "$out/guest-$i" >"$out/guest-$i.log" 2>&1 || rc=$?
  ((rc <= 1 || rc == 6)) || die $EXIT_CANNOT_RUN "guest round $i could not run (exit $rc; log: $out/guest-$i.log)"
  say "guest round $i of $guest_runs: exit $rc"
done

python3 "$ROOT/reports/stress.py" "$out"
