#!/usr/bin/env bash
# accel.sh auto|tcg|kvm VMLINUZ INITRD: the accelerator to boot guests with;
# prints tcg or kvm.
#
# auto is KVM only when a short test boot under it reaches the guest's
# userspace: /dev/kvm can exist while nested KVM hangs before the guest
# prints anything (seen on the development machines), and qemu's
# accel=kvm:tcg does not fall back on a hang. The answer is a fact about
# this boot of the machine, kept in /tmp keyed by the boot id, so
# ./ringcheck vm and the Bazel tests pay for the test boot once.
#
# Exit status: 0 printed an answer, 5 kvm was asked for but /dev/kvm is not
# usable, 64 usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# == 3)) || {
  echo "usage: accel.sh auto|tcg|kvm VMLINUZ INITRD" >&2
  exit 64
}
mode=$1 image=$2 initrd=$3
cache=/tmp/ringcheck-accel-$(id -u)

kvm_usable() { [[ -r /dev/kvm && -w /dev/kvm ]]; }

case $mode in
  tcg) echo tcg ;;
  kvm)
    kvm_usable || {
      echo "accel.sh: --accel kvm needs a readable and writable /dev/kvm" >&2
      exit 5
    }
    echo kvm
    ;;
  auto)
    if ! kvm_usable; then
      echo tcg
      exit 0
    fi
    boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
    answer=$cache/$boot_id
    if [[ ! -s $answer ]]; then
      mkdir -p "$cache"
      if python3 "$HERE/boot.py" --mode ping --accel kvm --boot-timeout 15 --label "kvm check" \
        --kernel "$image" --initrd "$initrd" 2>/dev/null; then
        echo kvm >"$answer.$$"
      else
        echo tcg >"$answer.$$"
      fi
      mv "$answer.$$" "$answer"
    fi
    cat "$answer"
    ;;
  *)
    echo "accel.sh: unknown accelerator '$mode' (auto, tcg or kvm)" >&2
    exit 64
    ;;
esac
