#!/usr/bin/env bash
# ./ringcheck vm: every conformance suite on other kernels, each in one qemu
# boot, one results directory per kernel (the layout of harness/run.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/harness/vm
cd "$ROOT"

# Distinct from report.py's 3 (unreadable results) and 4 (cannot write) and
# diff.py's 2, so a script can tell every failure of the family apart.
readonly EXIT_OK=0 EXIT_FAILED=1 EXIT_CANNOT_RUN=2 EXIT_NO_QEMU=5 EXIT_GUEST_DIED=6 \
  EXIT_NO_KERNEL=7 EXIT_USAGE=64
readonly CACHE=${RINGCHECK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ringcheck}
readonly QEMU=${RINGCHECK_QEMU:-qemu-system-x86_64}

say() { printf 'ringcheck vm: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

usage() {
  cat <<'EOF'
usage: ./ringcheck vm KERNEL... [--out DIR] [--accel auto|tcg|kvm] [--timeout S] [--parallel N]

Runs every conformance suite (every test target tagged "conformance") on
each KERNEL under qemu: one boot per kernel, a results directory per kernel
in DIR/<kernel release> (default DIR: results), and its report.

KERNEL is one of
  debian:5.10  debian:6.1  debian:6.12  debian:7.2
               the newest amd64 image of that series in Debian bullseye,
               bookworm, trixie or sid (downloaded once, cached in
               ~/.cache/ringcheck/kernels)
  IMAGE[:MODULES_DIR]
               a kernel image (bzImage/vmlinuz), optionally with its modules
               directory (lib/modules/<release>) for soft-RoCE

Options:
  --out DIR        parent of the results directories (default: results)
  --accel MODE     auto (default): KVM when a short test boot shows it works,
                   else TCG; tcg; kvm
  --timeout S      seconds each suite binary may run in the guest (default 300);
                   a guest silent for longer is stopped and reported as hung
  --parallel N     guests booted at once (default 2); inside each, the suites
                   run 4 test processes at once

The guest runs the suites as root on a busybox initramfs, with rdma_rxe
loaded and an rxe device on a dummy netdev when the kernel has the module.
A guest that panics or hangs is an ERROR for that kernel, with an excerpt
of its console; the other kernels still run. An earlier results directory
of the same kernel is kept, renamed with its time.

Environment: RINGCHECK_CACHE (default ~/.cache/ringcheck), RINGCHECK_QEMU
(default qemu-system-x86_64), RINGCHECK_DEBIAN_MIRROR (default: the mirror
of this machine's apt sources), RINGCHECK_VM_APPEND (more kernel parameters;
ringcheck.mode=panic or ringcheck.mode=hang test the runner itself).

Exit status: 0 nothing FAILed or ERRORed, 1 some test did, 2 could not run
(build failure, unwritable output), 5 qemu is missing or the requested
accelerator does not work, 6 a guest panicked, hung or died, 7 a kernel
image does not exist or could not be downloaded, 64 bad usage.
EOF
}

kernels=() out=results accel=auto timeout=300 parallel=2
while (($# > 0)); do
  case $1 in
    --out)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--out needs a directory"
      out=$2
      shift 2
      ;;
    --accel)
      [[ ${2:-} =~ ^(auto|tcg|kvm)$ ]] || die $EXIT_USAGE "--accel takes auto, tcg or kvm"
      accel=$2
      shift 2
      ;;
    --timeout)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die $EXIT_USAGE "--timeout needs a number of seconds"
      timeout=$2
      shift 2
      ;;
    --parallel)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die $EXIT_USAGE "--parallel needs a positive number"
      parallel=$2
      shift 2
      ;;
    -h | --help)
      usage
      exit $EXIT_OK
      ;;
    -*) die $EXIT_USAGE "unknown option '$1' (try --help)" ;;
    *)
      kernels+=("$1")
      shift
      ;;
  esac
done
((${#kernels[@]} > 0)) || die $EXIT_USAGE "name at least one kernel: debian:5.10, debian:6.1, debian:6.12, debian:7.2 or a kernel image (try --help)"

# Everything that can be checked before building or booting anything.
for k in "${kernels[@]}"; do
  case $k in
    debian:5.10 | debian:6.1 | debian:6.12 | debian:7.2) ;;
    debian:*) die $EXIT_USAGE "unknown Debian kernel '$k' (known: debian:5.10, debian:6.1, debian:6.12, debian:7.2)" ;;
    *)
      [[ -f ${k%%:*} ]] || die $EXIT_NO_KERNEL "the kernel image ${k%%:*} does not exist"
      [[ $k != *:* || -d ${k#*:} ]] || die $EXIT_NO_KERNEL "the modules directory ${k#*:} does not exist"
      ;;
  esac
done
command -v "$QEMU" >/dev/null 2>&1 ||
  die $EXIT_NO_QEMU "$QEMU is not installed (apt-get install qemu-system-x86, or ./ringcheck setup)"
command -v cpio >/dev/null 2>&1 || die $EXIT_CANNOT_RUN "cpio is not installed (apt-get install cpio)"
if ! mkdir -p "$out" 2>/dev/null || [[ ! -w $out ]]; then
  die $EXIT_CANNOT_RUN "cannot write results in $out"
fi

work=$(mktemp -d "$out/.ringcheck-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The guest's base image is //harness/vm:base_initramfs, the one the Bazel
# guest tests boot: every conformance suite's NAME_guest twin, the probe, the
# runner, /init and the expectations, with busybox and the shared libraries
# from the declared Debian packages of @guest_userland (bazel/guest_inputs.bzl),
# never from this machine. Each kernel adds only its modules archive.
# @conformance_suites lists the suites from suites/*/BUILD: the digest of
# those files (as ./ringcheck test passes it) makes Bazel see a new suite.
say "building the suites for the guest"
stamp=$(find suites -maxdepth 2 \( -name BUILD -o -name BUILD.bazel \) -print0 2>/dev/null | sort -z | xargs -0 cat | cksum | cut -d' ' -f1)
if ! bazel build --noshow_progress --repo_env=RINGCHECK_SUITES_STAMP="$stamp" //harness/vm:base_initramfs \
  >"$work/build.log" 2>&1; then
  tail -n 20 "$work/build.log" >&2
  cp "$work/build.log" "/tmp/ringcheck-vm-build.$$.log"
  die $EXIT_CANNOT_RUN "the guest build failed (full log: /tmp/ringcheck-vm-build.$$.log)"
fi
bin_dir=$(bazel info bazel-bin 2>/dev/null)
# A copy: a later build must not change the image between two boots.
cp "$bin_dir/harness/vm/base_initramfs.cpio" "$work/base.cpio" 2>/dev/null ||
  die $EXIT_CANNOT_RUN "cannot build the guest's initramfs"
# The suites the image holds, in its order ("NAME LABEL" per line).
suite_names=()
while read -r name _; do suite_names+=(--suite "$name"); done < <(cpio -i --quiet --to-stdout ringcheck/suites.txt <"$work/base.cpio" 2>/dev/null)
((${#suite_names[@]} > 0)) || die $EXIT_CANNOT_RUN "no conformance suites found under //suites"

# resolve KERNEL: sets image, modules (a directory with load-order, or ""), source, release.
resolve() {
  local k=$1 dir
  case $k in
    debian:*)
      dir=$("$HERE/kernel_fetch.sh" "${k#debian:}" "$CACHE") || return $EXIT_NO_KERNEL
      image=$dir/vmlinuz modules=$dir/modules
      source=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"])' "$dir/kernel.json")
      release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' "$dir/kernel.json")
      ;;
    *)
      image=${k%%:*} modules="" source="image $(realpath "$image")" release=unknown
      if [[ $k == *:* ]]; then
        modules=$work/modules.$RANDOM
        python3 "$HERE/modules.py" "${k#*:}" "$modules" ||
          return $EXIT_NO_KERNEL
      fi
      ;;
  esac
}

# auto: KVM only when a short test boot under it works (see accel.sh).
choose_accel() {
  local chosen rc=0
  chosen=$("$HERE/accel.sh" "$accel" "$image" "$work/base.cpio") || rc=$?
  ((rc == 0)) || die $EXIT_NO_QEMU "--accel kvm needs a usable /dev/kvm (read and write access)"
  if [[ $accel == auto ]]; then
    say "accelerator: $chosen$([[ $chosen == tcg ]] && echo ' (KVM is not usable here, or a test boot under it did not reach userspace)')"
  fi
  accel=$chosen
}

# Moves a finished results directory into place, keeping an earlier one.
install_results() {
  local from=$1 dest=$2 stamp
  if [[ -e $dest ]]; then
    stamp=$(date -u -r "$dest" +%Y%m%dT%H%M%SZ 2>/dev/null || date -u +%Y%m%dT%H%M%SZ)
    mv "$dest" "$dest.$stamp" || return 1
    say "earlier results kept as $dest.$stamp"
  fi
  mv "$from" "$dest"
}

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
worst=$EXIT_OK
note() {  # note CODE: keep the most serious outcome (no kernel > guest died > FAIL > ok)
  local -A rank=([$EXIT_OK]=0 [$EXIT_FAILED]=1 [$EXIT_GUEST_DIED]=2 [$EXIT_NO_KERNEL]=3)
  ((rank[$1] > rank[$worst])) && worst=$1
  return 0
}

# Boots one prepared kernel and writes its report; the outcome (an exit
# code of this script) goes to $work/outcome.N. Runs in the background.
boot_kernel() {  # boot_kernel N KERNEL IMAGE SOURCE RELEASE LABEL INITRD...
  local n=$1 k=$2 image=$3 source=$4 release=$5 label=$6 staged dest rc=0
  shift 6
  local initrd=()
  for part in "$@"; do initrd+=(--initrd "$part"); done
  staged=$work/results.$n
  python3 "$HERE/boot.py" --kernel "$image" "${initrd[@]}" --out "$staged" --source "$source" \
    --release "$release" --accel "$accel" --timeout "$timeout" --label "$label" --commit "$commit" \
    "${suite_names[@]}" || rc=$?
  case $rc in
    0) ;;
    6) echo $EXIT_GUEST_DIED >"$work/outcome.$n" ;;
    *) say "$k: qemu could not be run (exit $rc)" && echo $EXIT_CANNOT_RUN >"$work/outcome.$n" && return ;;
  esac
  [[ -d $staged ]] || { say "$k: the guest left no results" && echo $EXIT_CANNOT_RUN >"$work/outcome.$n" && return; }
  release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel_release"])' "$staged/run.json")
  # A kernel that never said its release (an image that died before its
  # userspace): name the directory after the image and the time, so it is
  # never taken for the results of a later run of the same kernel.
  [[ $release != unknown ]] || release="$(basename "$image")-$(date -u +%Y%m%dT%H%M%SZ)"
  dest=$out/$release
  if ! install_results "$staged" "$dest"; then
    say "cannot move the earlier $dest aside" && echo $EXIT_CANNOT_RUN >"$work/outcome.$n" && return
  fi
  rc=0
  python3 "$ROOT/reports/report.py" "$dest" --out "$dest" --summary || rc=$?
  case $rc in
    0) ;;
    1) [[ -s $work/outcome.$n ]] || echo $EXIT_FAILED >"$work/outcome.$n" ;;
    *) say "the report for $dest could not be written (exit $rc)" && echo $EXIT_CANNOT_RUN >"$work/outcome.$n" ;;
  esac
}

# Kernels are fetched and prepared one after the other (downloads share the
# cache), then booted up to --parallel at a time: a guest spends much of its
# run waiting on its own kernel, so two share the machine's cores well.
n=0 running=0
for k in "${kernels[@]}"; do
  n=$((n + 1))
  say "$k: preparing"
  rc=0
  resolve "$k" || rc=$?
  if ((rc != 0)); then
    say "$k: the kernel could not be fetched; skipping it"
    note $EXIT_NO_KERNEL
    continue
  fi
  choose_accel
  label=$k
  [[ $k == debian:* ]] || label=$(basename "$image")
  parts=("$work/base.cpio")
  if [[ -n $modules ]]; then
    "$HERE/initramfs.sh" modules "$work/modules.$n.cpio" "$modules" && parts+=("$work/modules.$n.cpio")
  fi
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  boot_kernel "$n" "$k" "$image" "$source" "$release" "$label" "${parts[@]}" &
  running=$((running + 1))
done
wait || true
for f in "$work"/outcome.*; do
  [[ -s $f ]] || continue
  code=$(<"$f")
  ((code == EXIT_CANNOT_RUN)) && die $EXIT_CANNOT_RUN "some kernel could not be run (see above)"
  note "$code"
done
say "results in $out/; one report for all of them: ./ringcheck report $out/* --out DIR"
exit "$worst"
