#!/bin/busybox sh
# /init of a guest that runs the standalone bundle as a target machine
# would: the unpacked bundle under /bundle, busybox and nothing else (no
# libc, no libibverbs: the verbs suite SKIPs). Speaks the framing of
# harness/vm/init.sh on /dev/ttyS1 so harness/vm/boot.py collects the
# results directory; the bundle's KTAP comes back as logs/ktap.txt and its
# own run.json as bundle-run.json (boot.py writes run.json).
# shellcheck shell=dash

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

DATA=/dev/ttyS1
stty -F "$DATA" raw -echo 2>/dev/null
mark() { echo "@@RINGCHECK $*" >"$DATA"; }
send() {  # send FILE NAME
  [ -f "$1" ] || return 0
  {
    echo "@@RINGCHECK FILE $2 $(wc -c <"$1")"
    gzip -c "$1" | base64
    echo "@@RINGCHECK EOF $2"
  } >"$DATA"
}
param() {
  read -r cmdline </proc/cmdline
  for word in $cmdline; do
    case "$word" in "ringcheck.$1="*) echo "${word#*=}" ;; esac
  done
}

mark BOOTED "$(cut -d' ' -f1 /proc/uptime)" "$(uname -r)"
timeout=$(param timeout)
main() {
  ip link set lo up
  before=$(cat /proc/sys/kernel/tainted)
  mark RUN bundle 0
  rc=0
  (cd /bundle/ringcheck-*-x86_64 && ./run --out /tmp/results --timeout "${timeout:-300}" \
    >/tmp/ktap.txt 2>/tmp/bundle-run.log) || rc=$?
  mark DONE bundle "$rc"
  cd /tmp/results || return
  find . -type f | while read -r f; do
    f=${f#./}
    case $f in run.json) send "$f" bundle-run.json ;; *) send "$f" "$f" ;; esac
  done
  send /tmp/ktap.txt logs/ktap.txt
  send /tmp/bundle-run.log logs/bundle-run.log
  mark TAINT "$before" "$(cat /proc/sys/kernel/tainted)"
  mark END "$(cut -d' ' -f1 /proc/uptime)"
}
(main)
sync
poweroff -f
