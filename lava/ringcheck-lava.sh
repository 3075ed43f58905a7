#!/bin/sh
# The run step of lava/ringcheck.yaml: fetch the bundle, run it, report each
# suite binary and each test through lava-test-case. POSIX sh.
#
#   ringcheck-lava.sh -u BUNDLE_URL [-t TIMEOUT] [-f FILTER] [-o OUTPUT_DIR]
#
# Results: one test case per suite binary (its name) and one per test
# (<suite>.<test>, with the characters LAVA does not take in a test case
# name turned into '_'): pass, fail or skip. XFAIL (a known kernel
# deviation, expectations/) is a pass; XPASS and ERROR are fails. The KTAP
# output and the results directory stay in OUTPUT_DIR (ringcheck.ktap,
# results/, results.tar.gz) for ./ringcheck report on another machine.

url="" timeout=300 filter="*" output=./output
while getopts "u:t:f:o:" opt; do
  case $opt in
    u) url=$OPTARG ;;
    t) timeout=$OPTARG ;;
    f) filter=$OPTARG ;;
    o) output=$OPTARG ;;
    *) echo "usage: $0 -u BUNDLE_URL [-t TIMEOUT] [-f FILTER] [-o OUTPUT_DIR]" >&2; exit 64 ;;
  esac
done

report() {  # report NAME RESULT
  lava-test-case "$1" --result "$2"
}

if [ -z "$url" ]; then
  echo "ringcheck-lava: BUNDLE_URL is not set" >&2
  report ringcheck-fetch fail
  exit 0
fi
mkdir -p "$output"
output=$(cd "$output" && pwd)
bundle="$output/ringcheck-bundle.tar.gz"
case $url in
  http://* | https://* | ftp://*)
    if command -v wget >/dev/null 2>&1; then
      wget -q -O "$bundle" "$url"
    else
      curl -fsSL -o "$bundle" "$url"
    fi
    ;;
  file://*) cp "${url#file://}" "$bundle" ;;
  *) cp "$url" "$bundle" ;;
esac
if [ ! -s "$bundle" ] || ! mkdir -p "$output/bundle" || ! tar -C "$output/bundle" -xzf "$bundle"; then
  echo "ringcheck-lava: cannot fetch or unpack $url" >&2
  report ringcheck-fetch fail
  exit 0
fi
report ringcheck-fetch pass
top=$(ls "$output/bundle" | head -n 1)

rc=0
"$output/bundle/$top/run" --out "$output/results" --timeout "$timeout" --filter "$filter" \
  >"$output/ringcheck.ktap" || rc=$?
if [ "$rc" -gt 1 ]; then
  report ringcheck-run fail
else
  report ringcheck-run pass
fi
tar -C "$output" -czf "$output/results.tar.gz" results 2>/dev/null

# KTAP -> lava-test-case: a top-level result line is a suite binary, a
# result line indented two spaces is one of its tests (it comes before its
# suite's own line).
sed -e 's/\r$//' "$output/ringcheck.ktap" | awk '
  function clean(s) { gsub(/[^A-Za-z0-9_.-]/, "_", s); return s }
  function result(line, indent,   ok, rest, name, directive) {
    ok = (line ~ /^ok /)
    rest = line
    sub(/^(not )?ok [0-9]+ ?/, "", rest)
    name = rest; directive = ""
    if (index(rest, "#") > 0) {
      name = substr(rest, 1, index(rest, "#") - 1)
      directive = substr(rest, index(rest, "#") + 1)
    }
    gsub(/^ +| +$/, "", name); gsub(/^ +/, "", directive)
    if (directive ~ /^SKIP/) verdict = "skip"
    else if (ok) verdict = "pass"
    else verdict = "fail"
    resname = name
  }
  /^  (not )?ok [0-9]+/ { line = $0; sub(/^  /, "", line); result(line); pending[++n] = clean(resname) "\t" verdict; next }
  /^(not )?ok [0-9]+/ {
    result($0); suite = clean(resname)
    for (i = 1; i <= n; i++) { split(pending[i], p, "\t"); print suite "." p[1] "\t" p[2] }
    n = 0
    print suite "\t" verdict
  }' >"$output/cases.tsv"

tab=$(printf '\t')
while IFS="$tab" read -r name result; do
  [ -n "$name" ] && report "$name" "$result"
done <"$output/cases.tsv"
exit 0
