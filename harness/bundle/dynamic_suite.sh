#!/bin/sh
# A dynamically linked suite of the bundle (the verbs suite: libibverbs loads
# its providers with dlopen, which a static binary cannot). The binary is
# libexec/<name>; it runs with the target's libibverbs, under the target's
# C/C++ runtime when that is new enough, else under the bundle's own loader
# and runtime (lib/). Where the target has no libibverbs,
# every test of the suite is recorded as a SKIP with that reason, so the
# results and the KTAP output still name each test.
#
# Called by bin/runner like any suite binary: [--gtest_filter=F], with
# RINGCHECK_RESULTS_DIR set.

set -f  # gtest filters are matched with case, never expanded as file names
name=${0##*/}
B=$(cd "$(dirname "$0")/.." && pwd)

find_ibverbs() {
  old_ifs=$IFS
  IFS=:
  # RINGCHECK_LIBIBVERBS_DIRS (colon-separated) replaces the usual places (tests).
  for d in ${RINGCHECK_LIBIBVERBS_DIRS:-${LD_LIBRARY_PATH:-}:/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:/usr/lib64:/lib64:/usr/local/lib:/usr/lib:/lib}; do
    if [ -n "$d" ] && [ -e "$d/libibverbs.so.1" ]; then
      IFS=$old_ifs
      echo "$d"
      return 0
    fi
  done
  IFS=$old_ifs
  return 1
}

if dir=$(find_ibverbs); then
  # The machine's own C/C++ runtime when it has every library and symbol
  # version the binary needs (then libibverbs and its providers run with the
  # runtime they were built for); else the bundle's, which is at least as new
  # as the one the binary was linked with. RINGCHECK_BUNDLE_RUNTIME=bundle
  # forces the bundle's (tests).
  sys_ld=/lib64/ld-linux-x86-64.so.2
  if [ "${RINGCHECK_BUNDLE_RUNTIME:-}" != bundle ] && [ -x "$sys_ld" ] &&
    listed=$("$sys_ld" --list "$B/libexec/$name" 2>&1) && ! printf '%s' "$listed" | grep -q 'not found'; then
    exec "$B/libexec/$name" "$@"
  fi
  exec "$B/lib/ld-linux-x86-64.so.2" --library-path "$B/lib:$dir" "$B/libexec/$name" "$@"
fi

# No libibverbs: every test (that the filter selects) is a SKIP. Asked for
# its list, the script says it cannot (the runner then runs it whole).
filter="*"
for a in "$@"; do
  case $a in
    --gtest_filter=*) filter=${a#--gtest_filter=} ;;
    --gtest_list_tests) exit 2 ;;
  esac
done
positive=${filter%%-*}
negative=""
case $filter in *-*) negative=${filter#*-} ;; esac
[ -n "$positive" ] || positive="*"

matches() {  # matches NAME PATTERNS(colon-separated globs)
  old_ifs=$IFS
  IFS=:
  for p in $2; do
    # shellcheck disable=SC2254
    case $1 in $p) IFS=$old_ifs; return 0 ;; esac
  done
  IFS=$old_ifs
  return 1
}

reason="environment:libibverbs (libibverbs.so.1 is not installed on this machine)"
out=${RINGCHECK_RESULTS_FILE:-${RINGCHECK_RESULTS_DIR:-.}/suites/$name.jsonl}
mkdir -p "${out%/*}"
n=0
{
  printf '{"event":"program_start","binary":"%s","kernel_release":"%s","taint":-1,"expectations":0,"expectation_errors":[]}\n' \
    "$name" "$(uname -r)"
  while read -r test; do
    [ -n "$test" ] || continue
    matches "$test" "$positive" || continue
    [ -n "$negative" ] && matches "$test" "$negative" && continue
    suite=${test%%.*}
    param=""
    case ${test#*.} in */*) param=${test##*/} ;; esac
    printf '{"event":"start","test":"%s"}\n' "$test"
    printf '{"event":"end","test":"%s","suite":"%s",%s"verdict":"SKIP","reason":"%s","rules":[],"features":[],"checks":[],"messages":[],"duration_ms":0,"kernel_log":[]}\n' \
      "$test" "$suite" "$( [ -n "$param" ] && printf '"param":"%s",' "$param")" "$reason"
    n=$((n + 1))
  done <"$B/tests/$name.list"
  printf '{"event":"program_end","pass":0,"fail":0,"skip":%s,"xfail":0,"xpass":0,"taint_before":-1,"taint_after":-1,"kernel_log_readable":false,"kernel_log":[]}\n' "$n"
} >>"$out"
echo "$name: $reason; $n tests skipped" >&2
exit 0
