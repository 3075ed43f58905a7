#!/usr/bin/env bash
# The bundle on this host, as a machine without the checkout sees it:
# unpacked in a fresh directory outside the source tree and run with only
# busybox applets on the PATH (no bash, Python, Bazel or compiler reachable).
# Its results must be readable by ./ringcheck report, its KTAP must parse
# with the independent parser and agree with the results.
#
#   bundle_test.sh BUNDLE.tar.gz KTAP_CHECK.py REPORT.py BUNDLE_SH
set -euo pipefail

bundle=$(realpath "$1") ktap_check=$(realpath "$2") report=$(realpath "$3") bundle_sh=$(realpath "$4")
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bundle-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
case $work in "$PWD"/*) fail "the work directory $work is inside the source tree" ;; esac

mkdir -p "$work/target" "$work/busybox"
tar -C "$work/target" -xzf "$bundle"
top=$(ls "$work/target")
[[ -x $work/target/$top/run ]] || fail "no ./run in the bundle"

# A PATH of busybox applets only.
bb=$(command -v busybox) || fail "busybox is not installed (busybox-static)"
ldd "$bb" >/dev/null 2>&1 && fail "$bb is not the static busybox"
cp "$bb" "$work/busybox/busybox"
"$work/busybox/busybox" --install -s "$work/busybox"
for tool in bash python3 python bazel gcc g++ cc clang; do
  if env -i PATH="$work/busybox" "$work/busybox/sh" -c "command -v $tool" >/dev/null 2>&1; then
    fail "$tool is reachable on the busybox-only PATH"
  fi
done

# Every binary in bin/ and suites/ is static, or the dynamic wrapper (sh).
for f in "$work/target/$top"/bin/* "$work/target/$top"/suites/*; do
  if head -c 2 "$f" | grep -q '#!'; then
    continue
  fi
  ldd "$f" >/dev/null 2>&1 && fail "${f##*/} is dynamically linked"
done

rc=0
(cd "$work/target/$top" && env -i PATH="$work/busybox" HOME="$work" "$work/busybox/sh" ./run \
  --out "$work/results" --timeout 240 >"$work/ktap.txt" 2>"$work/run.log") || rc=$?
cat "$work/run.log" >&2
((rc <= 1)) || fail "./run could not run (exit $rc)"
[[ -f $work/results/run.json && -f $work/results/capabilities.json ]] || fail "no run.json or capabilities.json"
suites=$(grep -c . "$work/target/$top/suites.txt")
got=$(ls "$work/results/suites" | grep -c '\.jsonl$' || true)
((got == suites)) || fail "$got of $suites suites left results"

python3 "$ktap_check" "$work/ktap.txt" --results "$work/results" || fail "the KTAP does not parse or disagree with the results"
grep -q '# SKIP ' "$work/ktap.txt" || fail "no SKIP with a reason in the KTAP"

# Where libibverbs is missing, the verbs suite records each test as a SKIP.
dir=$work/target/$top
list=$(ls "$dir/tests/" | head -n 1)
if [[ -n $list ]]; then
  name=${list%.list}
  mkdir -p "$work/noibv/suites"
  env -i PATH="$work/busybox" RINGCHECK_RESULTS_DIR="$work/noibv" RINGCHECK_LIBIBVERBS_DIRS=/nonexistent \
    "$work/busybox/sh" "$dir/suites/$name" '--gtest_filter=*' 2>/dev/null || fail "$name without libibverbs did not end 0"
  want=$(grep -c . "$dir/tests/$list")
  got=$(grep -c '"verdict":"SKIP","reason":"environment:libibverbs' "$work/noibv/suites/$name.jsonl" || true)
  ((want > 0 && got == want)) || fail "$name without libibverbs: $got SKIPs for $want tests"
  rm -rf "$work/noibv/suites"
  first=$(head -n 1 "$dir/tests/$list")
  env -i PATH="$work/busybox" RINGCHECK_RESULTS_DIR="$work/noibv" RINGCHECK_LIBIBVERBS_DIRS=/nonexistent \
    "$work/busybox/sh" "$dir/suites/$name" "--gtest_filter=${first%%.*}.*-$first" 2>/dev/null
  got=$(grep -c '"verdict":"SKIP"' "$work/noibv/suites/$name.jsonl" || true)
  want=$(grep -c "^${first%%.*}\." "$dir/tests/$list")
  ((got == want - 1)) || fail "$name without libibverbs ignores its --gtest_filter ($got SKIPs, expected $((want - 1)))"
  echo "$name without libibverbs: every test SKIPs with environment:libibverbs; filters apply"
  # With this machine's libibverbs under the bundle's own loader and runtime
  # (what an older target gets): the tests run.
  rm -rf "$work/noibv/suites"
  env -i PATH="$work/busybox" RINGCHECK_RESULTS_DIR="$work/noibv" RINGCHECK_BUNDLE_RUNTIME=bundle \
    RINGCHECK_EXPECTATIONS="$dir/expectations" \
    "$work/busybox/sh" "$dir/suites/$name" '--gtest_filter=*' >"$work/bundled.log" 2>&1 ||
    { cat "$work/bundled.log" >&2; fail "$name under the bundle's runtime did not end 0"; }
  got=$(grep -c '"verdict":"PASS"' "$work/noibv/suites/$name.jsonl" || true)
  ((got > 0)) || fail "$name under the bundle's runtime passed nothing"
  echo "$name under the bundle's loader and runtime with this machine's libibverbs: $got PASS"
fi

mkdir -p "$work/report"
rc=0
python3 "$report" "$work/results" --out "$work/report" --summary || rc=$?
((rc <= 1)) || fail "./ringcheck report cannot read the bundle's results (exit $rc)"
python3 - "$work/report/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
k = r["kernels"][0]
assert k["summary"]["total"] > 100, k["summary"]
assert k["source"].startswith("host (bundle ringcheck-"), k["source"]
assert k["capabilities"] and k["capabilities"]["features"], "no capability snapshot"
print(f"bundle on this host: {k['summary']}")
EOF
# Usage errors of ./ringcheck bundle and of ./run are exit 64, before anything runs.
for bad in "--bogus" "--out"; do
  rc=0
  "$bundle_sh" $bad >/dev/null 2>&1 || rc=$?
  ((rc == 64)) || fail "bundle.sh $bad: exit $rc, not 64"
done
"$bundle_sh" --help | grep -q "usage: ./ringcheck bundle" || fail "bundle.sh --help"
for bad in "--jobs 0" "--timeout x" "--nope"; do
  rc=0
  (cd "$work/target/$top" && env -i PATH="$work/busybox" "$work/busybox/sh" ./run $bad >/dev/null 2>&1) || rc=$?
  ((rc == 64)) || fail "./run $bad: exit $rc, not 64"
done

echo "PASS: the bundle ran outside the checkout with busybox alone"
