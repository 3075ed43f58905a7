#!/bin/busybox sh
# /init of a ringcheck guest (busybox ash; PID 1 of a throwaway VM).
#
# Runs the probe and every suite binary under /ringcheck/suites once through
# /ringcheck/runner (the supervisor harness/run.sh uses too), and streams the results to the host over the second
# serial port (/dev/ttyS1; the kernel console stays on ttyS0), framed so the
# host can tell a complete file from one cut short:
#   @@RINGCHECK <EVENT> <args>          progress (BOOTED, RUN, DONE, END, ...)
#   @@RINGCHECK FILE <path> <bytes>     then the file, gzip + base64, then
#   @@RINGCHECK EOF <path>
# Kernel command line: ringcheck.timeout=<s per binary>, ringcheck.jobs=<test
# processes at once, default 4>, ringcheck.mode=ping
# (only say BOOTED and power off: the host's accelerator check), and for
# testing the runner itself ringcheck.mode=panic (crash the kernel through
# sysrq) or ringcheck.mode=hang (go silent).
# shellcheck shell=dash

DATA=/dev/ttyS1
R=/tmp/results

mark() { echo "@@RINGCHECK $*" >"$DATA"; }

send() {  # send PATH (relative to $R)
  [ -f "$R/$1" ] || return 0
  {
    echo "@@RINGCHECK FILE $1 $(wc -c <"$R/$1")"
    gzip -c "$R/$1" | base64
    echo "@@RINGCHECK EOF $1"
  } >"$DATA"
}

# Called again by the runner (--on-event /init), one call at a time, when a
# suite binary starts ("run NAME ATTEMPT") and when its results are joined
# ("done NAME EXIT"): a binary's results go to the host as soon as it is
# done, so a guest that dies later loses none of them.
if [ "$$" != 1 ]; then
  case "$1" in
    run) mark RUN "$2" "$3" ;;
    done)
      send "suites/$2.jsonl"
      send "logs/$2.log"
      mark DONE "$2" "$3"
      ;;
  esac
  exit 0
fi

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

stty -F "$DATA" raw -echo 2>/dev/null

param() {
  read -r cmdline </proc/cmdline
  for word in $cmdline; do
    case "$word" in "ringcheck.$1="*) echo "${word#*=}" ;; esac
  done
}

mark BOOTED "$(cut -d' ' -f1 /proc/uptime)" "$(uname -r)"
case "$(param mode)" in
  ping) poweroff -f ;;
  panic) echo c >/proc/sysrq-trigger ;;
  hang) exec sleep 100000 ;;
esac

mkdir -p "$R/suites" "$R/logs"
TIMEOUT=$(param timeout)
TIMEOUT=${TIMEOUT:-300}
JOBS=$(param jobs)
JOBS=${JOBS:-4}
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export RINGCHECK_RESULTS_DIR="$R" RINGCHECK_EXPECTATIONS=/ringcheck/expectations
export RINGCHECK_GUEST=1  # tests that change global sysctls run only here

# Soft-RoCE: load rdma_rxe and its dependencies (shipped by the host in
# /lib/modules/ringcheck when the kernel has them) and put an rxe device on a
# dummy netdev, so libibverbs finds a device.
setup_rdma() {
  mods=/lib/modules/ringcheck
  if [ ! -s "$mods/load-order" ]; then
    echo "rdma: no modules shipped for this kernel"
    return 1
  fi
  while read -r m; do
    case $m in
      # /dev/nullb0 with a poll queue for the IOPOLL rules (spec/files.md G144);
      # poll_queues is 5.13+, so older kernels get a plain device.
      null_blk) insmod "$mods/$m.ko" nr_devices=1 queue_mode=2 poll_queues=1 ||
        insmod "$mods/$m.ko" nr_devices=1 queue_mode=2 || echo "rdma: insmod $m failed" ;;
      *) insmod "$mods/$m.ko" || echo "rdma: insmod $m failed" ;;
    esac
  done <"$mods/load-order"
  ip link add rc0 type dummy && ip addr add 10.99.0.1/24 dev rc0 && ip link set rc0 up ||
    echo "rdma: cannot create the dummy netdev rc0"
  if [ -x /usr/bin/rdma ]; then
    /usr/bin/rdma link add rxe0 type rxe netdev rc0 || echo "rdma: 'rdma link add rxe0 type rxe netdev rc0' failed"
  elif [ -w /sys/module/rdma_rxe/parameters/add ]; then
    echo rc0 >/sys/module/rdma_rxe/parameters/add
  fi
  devices=""
  for d in /sys/class/infiniband/*; do
    [ -e "$d" ] && devices="$devices ${d##*/}"
  done
  if [ -z "$devices" ]; then
    echo "rdma: no device in /sys/class/infiniband"
    return 1
  fi
  echo "rdma: devices$devices"
}

main() {
  cat /proc/sys/kernel/tainted >"$R/taint-before"
  ip link set lo up  # suites use TCP and UDP over loopback
  /ringcheck/probe --out "$R/capabilities.json" >"$R/logs/probe.log" 2>&1
  mark PROBED "$?"
  send capabilities.json
  setup_rdma >"$R/logs/rdma.log" 2>&1
  mark RDMA "$?"
  send logs/rdma.log
  # The runner (harness/runner.cc, as on the host) gives each binary its
  # timeout, restarts it past a test that crashed it, runs JOBS test
  # processes at once (a big binary in parts), and calls this script back
  # as each binary starts and ends.
  set --
  while read -r name label; do
    [ -n "$name" ] && set -- "$@" "/ringcheck/suites/$name@$label"
  done </ringcheck/suites.txt
  /ringcheck/runner --results "$R" --expectations /ringcheck/expectations --timeout "$TIMEOUT" \
    --jobs "$JOBS" --on-event /init --quiet "$@"
  send binaries.jsonl
  cat /proc/sys/kernel/tainted >"$R/taint-after"
  dmesg >"$R/kernel.log"
  send kernel.log
  mark TAINT "$(cat "$R/taint-before")" "$(cat "$R/taint-after")"
  mark END "$(cut -d' ' -f1 /proc/uptime)"
}

# Whatever happens in main, power off: PID 1 exiting would panic the kernel.
(main)
sync
poweroff -f
