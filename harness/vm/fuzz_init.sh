#!/bin/busybox sh
# /init of a ringcheck fuzz guest (busybox ash; PID 1 of a throwaway VM),
# started by fuzz/vm/fuzz_vm.py. The conformance guest's init.sh is the model:
# the same framing on the second serial port (/dev/ttyS1):
#   @@RINGCHECK <EVENT> <args>          progress
#   @@RINGCHECK FILE <name> <bytes>     then the file, gzip + base64, then
#   @@RINGCHECK EOF <name>
# This shell is the port's only writer; fuzzers run in the background and
# write their logs to /tmp.
#
# /ringcheck/fuzz/plan, one step a line, written by the host for this boot:
#   fuzz TARGET SECONDS      run /ringcheck/fuzz/bin/TARGET_fuzzer on
#                            /ringcheck/fuzz/corpus/TARGET for SECONDS,
#                            restarted past its own crashes (oracle aborts)
#   run NAME COMMAND...      run a command once (replays); its output and
#                            exit status come back as FILE run/NAME.out and
#                            the mark RAN NAME STATUS
# Each input a fuzzer runs is written first to qemu's ivshmem device
# (RINGCHECK_FUZZ_SHM, fuzz/common/oracle.h), so the last inputs survive a
# panic. Kernel command line: ringcheck.mode=panic@N crashes the kernel
# through sysrq N seconds into the first fuzz step, ringcheck.mode=panic at
# once (tests of the host's crash handling).
# shellcheck shell=dash

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs -o size=70% tmpfs /tmp

DATA=/dev/ttyS1
stty -F "$DATA" raw -echo 2>/dev/null
mark() { echo "@@RINGCHECK $*" >"$DATA"; }
param() {
  read -r cmdline </proc/cmdline
  for word in $cmdline; do
    case "$word" in "ringcheck.$1="*) echo "${word#*=}" ;; esac
  done
}
send() {  # send FILE NAME
  [ -f "$1" ] || return 0
  {
    echo "@@RINGCHECK FILE $2 $(wc -c <"$1")"
    gzip -c "$1" | base64
    echo "@@RINGCHECK EOF $2"
  } >"$DATA"
}

mark BOOTED "$(cut -d' ' -f1 /proc/uptime)" "$(uname -r)"
ip link set lo up
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=0
# The ivshmem device (vendor 1af4, device 1110): its BAR 2 is the host's file.
for dev in /sys/bus/pci/devices/*; do
  if [ "$(cat "$dev/vendor")" = 0x1af4 ] && [ "$(cat "$dev/device")" = 0x1110 ]; then
    export RINGCHECK_FUZZ_SHM="$dev/resource2"
  fi
done
mark SHM "${RINGCHECK_FUZZ_SHM:-none}"
# KCOV, for the report: Debian's kernels do not have it.
if [ -e /sys/kernel/debug/kcov ] || { mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null && [ -e /sys/kernel/debug/kcov ]; }; then
  mark KCOV yes
else
  mark KCOV no
fi
TAINT0=$(cat /proc/sys/kernel/tainted)
mark TAINT "$TAINT0" "$TAINT0"
PANIC_AT=$(param mode)
case "$PANIC_AT" in
  panic) echo c >/proc/sysrq-trigger ;;  # dies before its first input
  panic@*) PANIC_AT=${PANIC_AT#panic@} ;;
  *) PANIC_AT="" ;;
esac
SENT=0

# Sends the corpus files that appeared since the last call, as one tar.
send_corpus() {  # send_corpus TARGET
  dir=/tmp/fz/$1/corpus
  : >/tmp/fz/new.list
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    grep -qxF "${f##*/}" "/tmp/fz/$1/sent.list" 2>/dev/null || echo "${f##*/}" >>/tmp/fz/new.list
  done
  [ -s /tmp/fz/new.list ] || return 0
  SENT=$((SENT + 1))
  tar -cf /tmp/fz/new.tar -C "$dir" $(cat /tmp/fz/new.list) 2>/dev/null && send /tmp/fz/new.tar "corpus/$1/$SENT.tar"
  cat /tmp/fz/new.list >>"/tmp/fz/$1/sent.list"
}

# Sends what a crashed fuzzer process left: its artifacts and the log tail.
send_artifacts() {  # send_artifacts TARGET
  for a in /tmp/fz/$1/art/*; do
    [ -f "$a" ] || continue
    case "${a##*/}" in *.sent | slow-unit-*) continue ;; esac
    send "$a" "artifacts/$1/$n-${a##*/}"
    mv "$a" "$a.sent"
  done
}

fuzz_step() {  # fuzz_step TARGET SECONDS
  t=$1 secs=$2
  mkdir -p "/tmp/fz/$t/corpus" "/tmp/fz/$t/art" "/tmp/fz/$t/tmp"
  [ -d "/ringcheck/fuzz/corpus/$t" ] && cp -a "/ringcheck/fuzz/corpus/$t/." "/tmp/fz/$t/corpus/" 2>/dev/null
  ls "/tmp/fz/$t/corpus" >"/tmp/fz/$t/sent.list"
  dict=""
  [ -f "/ringcheck/fuzz/$t.dict" ] && dict="-dict=/ringcheck/fuzz/$t.dict"
  start=$(cut -d. -f1 /proc/uptime)
  end=$((start + secs))
  mark FUZZ "$t" "$secs"
  n=0 fast=0
  while :; do
    now=$(cut -d. -f1 /proc/uptime)
    left=$((end - now))
    [ "$left" -ge 2 ] || break
    n=$((n + 1))
    # One libFuzzer process; after a crash (an oracle abort) the next one
    # starts from the corpus as it is now.
    # TCG runs the kernel 10-50 times slower than the host: a 10 s
    # completion deadline instead of 3 s keeps slowness from being a finding.
    TMPDIR=/tmp/fz/$t/tmp RINGCHECK_FUZZ_DEADLINE_MS=${DEADLINE_MS:-10000} RINGCHECK_FUZZ_STATS=/tmp/fz/$t/stats RINGCHECK_FUZZ_KNOWN=$(cat /ringcheck/fuzz/known 2>/dev/null) \
      RINGCHECK_FUZZ_CRASHLOG=/tmp/fz/$t/crash-lines.log \
      "/ringcheck/fuzz/bin/${t}_fuzzer" -max_total_time="$left" -timeout=30 -rss_limit_mb=0 -malloc_limit_mb=1024 \
      -print_final_stats=1 -report_slow_units=60 -artifact_prefix="/tmp/fz/$t/art/" $dict "/tmp/fz/$t/corpus" >"/tmp/fz/$t/fuzz.$n.log" 2>&1 &
    pid=$!
    ticks=0 stuck=0
    while kill -0 "$pid" 2>/dev/null; do
      sleep 2
      ticks=$((ticks + 1))
      # Stuck in the kernel (state D) for 30 s: the blocked tasks' stacks
      # go to the console once, for the host's finding and its frames.
      case "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" in
        D) stuck=$((stuck + 1)) ;;
        *) stuck=0 ;;
      esac
      if [ "$stuck" -eq 15 ]; then
        mark STUCK "$t" "$pid"
        echo w >/proc/sysrq-trigger
      fi
      taint=$(cat /proc/sys/kernel/tainted)
      [ "$taint" = "$TAINT0" ] || { mark TAINT "$TAINT0" "$taint"; TAINT0=$taint; }
      if [ -n "$PANIC_AT" ] && [ $(( $(cut -d. -f1 /proc/uptime) - start )) -ge "$PANIC_AT" ]; then
        echo c >/proc/sysrq-trigger
      fi
      # Every 30 s: what the fuzzer found so far, so a panic loses little.
      if [ $((ticks % 15)) -eq 0 ]; then
        send_corpus "$t"
        mark ALIVE "$t" "$(grep -a -E '^#[0-9]+' "/tmp/fz/$t/fuzz.$n.log" | tail -1)"
      fi
    done
    wait "$pid"
    rc=$?
    send_artifacts "$t"
    tail -n 300 "/tmp/fz/$t/fuzz.$n.log" >"/tmp/fz/$t/tail.log"
    send "/tmp/fz/$t/tail.log" "logs/$t/fuzz.$n.log"
    mark PROC "$t" "$n" "$rc"
    [ "$rc" -eq 0 ] && break
    # Three processes in a row that died within 10 s: the fuzzer cannot run
    # on this kernel (its sandbox needs something the kernel lacks).
    if [ $(( $(cut -d. -f1 /proc/uptime) - now )) -lt 10 ]; then fast=$((fast + 1)); else fast=0; fi
    if [ "$fast" -ge 3 ]; then
      mark GIVEUP "$t" "$(grep -a -m1 -E '^(HARNESS|ORACLE|==[0-9]+==ERROR)' "/tmp/fz/$t/fuzz.$n.log" | tr -s ' ' | cut -c1-200)"
      break
    fi
  done
  send_corpus "$t"
  send "/tmp/fz/$t/stats" "stats/$t"
  send "/tmp/fz/$t/crash-lines.log" "logs/$t/crash-lines.log"
  mark FUZZED "$t" "$n"
}

run_step() {  # run_step NAME COMMAND...
  name=$1
  shift
  mkdir -p /tmp/run
  mark RUN "$name"
  (cd /tmp/run && TMPDIR=/tmp/run timeout 600 "$@") >"/tmp/run/$name.out" 2>&1
  rc=$?
  send "/tmp/run/$name.out" "run/$name.out"
  mark RAN "$name" "$rc"
}

main() {
  while read -r kind a b rest; do
    case "$kind" in
      fuzz) fuzz_step "$a" "$b" ;;
      run) run_step "$a" $b $rest ;;
    esac
  done </ringcheck/fuzz/plan
  dmesg >/tmp/kernel.log
  send /tmp/kernel.log kernel.log
  mark TAINT "$TAINT0" "$(cat /proc/sys/kernel/tainted)"
  mark END "$(cut -d' ' -f1 /proc/uptime)"
}

(main)
sync
poweroff -f
