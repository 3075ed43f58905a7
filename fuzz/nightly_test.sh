#!/usr/bin/env bash
# fuzz/nightly.sh with stand-in fuzzers (RINGCHECK_FUZZ_BIN_DIR): a crash that
# reproduces alone is a new crash and exit 1; one that runs clean alone is
# listed apart, with the oracle lines of the run, and does not make the job
# exit 1; a crash seen before is not new again.
set -euo pipefail

src=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-ringcheck}
root=${TEST_TMPDIR:-$(mktemp -d)}/root
rm -rf "$root"
mkdir -p "$root/fuzz/sqe/corpus" "$root/bin"
touch "$root/WORKSPACE"
cp "$src/fuzz/nightly.sh" "$src/fuzz/fuzz_report.py" "$src/fuzz/known-findings" "$root/fuzz/"
printf 'seed' >"$root/fuzz/sqe/corpus/seed"

cat >"$root/bin/sqe_fuzzer" <<'SH'
#!/usr/bin/env bash
# Stand-in: fuzzing "finds" a flaky crash (and a real one with FAKE_REAL=1);
# -runs=1 replays: only the real one fails again.
replay=0 minimize=0 art="" exact="" secs=1
for a in "$@"; do
  case $a in
    -runs=1) replay=1 ;;
    -minimize_crash=1) minimize=1 ;;
    -artifact_prefix=*) art=${a#*=} ;;
    -exact_artifact_path=*) exact=${a#*=} ;;
    -max_total_time=*) secs=${a#*=} ;;
  esac
done
last=${*: -1}
if ((minimize)); then cp "$last" "$exact"; exit 0; fi
if ((replay)); then
  if grep -q REAL "$last"; then echo "ORACLE nop-result: NOP completed with a result other than 0 | res -22"; exit 1; fi
  echo "ran clean"
  exit 0
fi
echo "#100	DONE   cov: 1 ft: 5 corp: 1"
printf FLAKY >"${art}crash-flaky"
echo "$(date +%s) $$ ORACLE unknown-user-data: a CQE carries user_data no request of this input has | x" >>"$RINGCHECK_FUZZ_CRASHLOG"
if [[ ${FAKE_REAL:-0} == 1 ]]; then printf REAL >"${art}crash-real"; fi
sleep "$secs"
SH
printf '#!/bin/sh\necho "// reproducer of $1"\n' >"$root/bin/sqe_repro"
chmod +x "$root/bin/"*

run() {  # run EXPECTED_EXIT [ENV...]
  local want=$1 rc=0
  shift
  (cd "$root" && env RINGCHECK_FUZZ_BIN_DIR="$root/bin" "$@" bash fuzz/nightly.sh sqe --time 3 --out "$root/out") >"$root/log" 2>&1 || rc=$?
  cat "$root/log"
  [[ $rc == "$want" ]] || { echo "FAIL: nightly.sh exited $rc, want $want"; exit 1; }
}

check() {  # check CRASHES UNREPRODUCED
  python3 - "$root/out/fuzz-report.json" "$root/out/fuzz-report.md" "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
md = open(sys.argv[2]).read()
crashes, unrepro = int(sys.argv[3]), int(sys.argv[4])
got = [c["oracle"] for t in r["targets"] for c in t["crashes"]]
assert len(got) == crashes, got
assert all(o.startswith("ORACLE nop-result") for o in got), got
assert len(r["unreproduced"]) == unrepro, r["unreproduced"]
assert all("unknown-user-data" in u["oracle"] for u in r["unreproduced"]), r["unreproduced"]
assert "## Crashes that did not reproduce alone" in md
PY
}

echo "== only a crash that does not reproduce alone: exit 0, listed apart"
run 0
check 0 1
echo "== and one that does: exit 1"
run 1 FAKE_REAL=1
check 1 1
echo "== the same again: not new, exit 0"
run 0 FAKE_REAL=1
check 1 1
echo "PASS"
