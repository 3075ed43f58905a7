#!/usr/bin/env bash
# ./ringcheck vm's answers to bad input: one sentence and a distinct exit
# status, before anything is built or booted.
set -uo pipefail

vm=${TEST_SRCDIR:-$PWD/../..}/${TEST_WORKSPACE:-ringcheck}/harness/vm/vm.sh
failures=0

# expect CODE TEXT ARGS...: vm.sh ARGS exits CODE and says TEXT in one line.
expect() {
  local code=$1 text=$2 out rc=0
  shift 2
  out=$("$vm" "$@" 2>&1 >/dev/null) || rc=$?
  if ((rc != code)) || [[ $out != *"$text"* ]] || (($(wc -l <<<"$out") != 1)); then
    echo "FAIL: vm.sh $* exited $rc (want $code) saying: $out (want one line with '$text')"
    failures=$((failures + 1))
  fi
}

"$vm" --help | grep -q '^usage: ./ringcheck vm KERNEL' || {
  echo "FAIL: --help prints no usage"
  failures=$((failures + 1))
}
expect 64 "name at least one kernel"
expect 64 "unknown Debian kernel 'debian:9.9'" debian:9.9
expect 64 "--accel takes auto, tcg or kvm" --accel fast debian:6.1
expect 64 "unknown option '--frobnicate'" --frobnicate debian:6.1
expect 7 "the kernel image /nonexistent/bzImage does not exist" /nonexistent/bzImage
RINGCHECK_QEMU=/nonexistent/qemu expect 5 "/nonexistent/qemu is not installed" debian:6.1

((failures == 0)) && echo "all vm.sh usage checks passed"
exit $((failures > 0))
