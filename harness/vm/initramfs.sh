#!/usr/bin/env bash
# initramfs.sh: the cpio archives a ringcheck guest boots from.
#
#   initramfs.sh base OUT --sysroot TAR --busybox FILE --init FILE --probe FILE
#                --runner FILE [--expectations DIR|FILE]... [--suite NAME LABEL FILE]...
#   initramfs.sh modules OUT KERNEL_MODULES_DIR
#
# base: static busybox, /init, the probe, the expectations files and the
# suite binaries (listed in /ringcheck/suites.txt in the order given). A
# dynamically linked binary (a suite that uses libibverbs) brings its shared
# libraries and the dynamic loader; libibverbs' rxe provider and iproute2's
# rdma tool come along so the guest can create a soft-RoCE device.
# modules: a kernel's modules directory (kernel_fetch.sh, modules.py) under
# /lib/modules/ringcheck. The kernel accepts the two archives concatenated,
# so one base serves every kernel.
#
# The one caller of base is //harness/vm:base_initramfs (harness/vm/vm.bzl),
# which both the Bazel guest tests and ./ringcheck vm boot. Nothing comes
# from this machine's /usr: --sysroot TAR (@guest_userland//:sysroot.tar,
# bazel/guest_inputs.bzl) is a tarball of unpacked Debian packages, and every
# shared library, the dynamic loader, the rxe provider and the rdma tool are
# taken from it (each library found by the binary's NEEDED entries and
# interpreter in the sysroot (sysroot.sh), with its chain of symlinks);
# --busybox is @guest_userland//:busybox.
#
# Archives are uncompressed newc: the guest skips decompression, which costs
# more under TCG than reading a larger file costs the host.
set -euo pipefail

# shellcheck source=harness/vm/sysroot.sh
source "$(dirname "${BASH_SOURCE[0]}")/sysroot.sh"

die() {
  printf 'initramfs: %s\n' "$*" >&2
  exit 2
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/ringcheck-initramfs.XXXXXX")
sysroot=""
trap 'rm -rf "$stage" ${sysroot:+"$sysroot"}' EXIT

pack() {  # pack OUT: the staging tree as a newc archive, written atomically
  local out=$1
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp.$$" ||
    die "cpio failed for $out"
  mv "$out.tmp.$$" "$out"
}

# copy_from_sysroot PATH: PATH of the sysroot at the same place in the tree,
# with its chain of symlinks (libibverbs.so.1 -> libibverbs.so.1.14.44.0:
# the verbs suite reads the release from that name).
copy_from_sysroot() {
  local path=$1 target n=0
  while [[ -L $sysroot$path ]] && ((n++ < 40)); do
    target=$(readlink "$sysroot$path")
    mkdir -p "$stage$(dirname "$path")"
    ln -sfn "$target" "$stage$path"
    [[ $target == /* ]] || target=$(dirname "$path")/$target
    path=$target
  done
  [[ -f $sysroot$path ]] || die "$path is not in the guest sysroot"
  mkdir -p "$stage$(dirname "$path")"
  [[ -e $stage$path ]] || cp "$sysroot$path" "$stage$path"
}

# copy_with_libs FILE DEST: FILE at DEST in the tree, and if it is dynamically
# linked, its shared libraries and loader from the sysroot at their own paths.
copy_with_libs() {
  local file=$1 dest=$2 closure lib
  mkdir -p "$stage/$(dirname "$dest")"
  cp -L "$file" "$stage/$dest"
  chmod 0755 "$stage/$dest"
  closure=$(sysroot_closure "$file") || die "cannot take the libraries of ${file##*/} from the guest sysroot"
  while read -r lib; do
    [[ -z $lib ]] || copy_from_sysroot "$lib"
  done <<<"$closure"
}

base() {
  local out=$1 init="" probe="" runner="" busybox="" sysroot_tar="" dynamic=0 expectations=() suites=() x i
  shift
  while (($# > 0)); do
    case $1 in
      --init) init=$2 && shift 2 ;;
      --probe) probe=$2 && shift 2 ;;
      --runner) runner=$2 && shift 2 ;;
      --expectations) expectations+=("$2") && shift 2 ;;
      --busybox) busybox=$2 && shift 2 ;;
      --sysroot) sysroot_tar=$2 && shift 2 ;;
      --suite)
        (($# >= 4)) || die "--suite needs NAME LABEL FILE"
        [[ -x $4 ]] || die "suite binary $4 does not exist"
        suites+=("$2" "$3" "$4")
        shift 4
        ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
  [[ -f $init && -f $probe && -f $runner ]] || die "base needs --init, --probe and --runner"
  [[ -f $sysroot_tar ]] || die "base needs --sysroot, the guest userland tarball (@guest_userland//:sysroot.tar)"
  [[ -x $busybox ]] || die "base needs --busybox, a static busybox (@guest_userland//:busybox)"
  is_dynamic "$busybox" && die "$busybox is not statically linked"
  sysroot=$(mktemp -d "${TMPDIR:-/tmp}/ringcheck-sysroot.XXXXXX")
  tar -C "$sysroot" -xf "$sysroot_tar" || die "cannot unpack the sysroot $sysroot_tar"
  mkdir -p "$stage/ringcheck/suites" "$stage/ringcheck/expectations" "$stage/bin"
  for ((i = 0; i < ${#suites[@]}; i += 3)); do
    copy_with_libs "${suites[i + 2]}" "ringcheck/suites/${suites[i]}"
    is_dynamic "${suites[i + 2]}" && dynamic=1
    echo "${suites[i]} ${suites[i + 1]}" >>"$stage/ringcheck/suites.txt"
  done
  cp "$busybox" "$stage/bin/busybox"
  cp "$init" "$stage/init"
  chmod 0755 "$stage/init"
  copy_with_libs "$probe" ringcheck/probe
  copy_with_libs "$runner" ringcheck/runner
  for x in "${expectations[@]}"; do
    if [[ -d $x ]]; then
      find "$x" -maxdepth 1 -name '*.txt' -exec cp {} "$stage/ringcheck/expectations/" \;
    else
      cp "$x" "$stage/ringcheck/expectations/"
    fi
  done
  touch "$stage/ringcheck/suites.txt"
  # Soft-RoCE userland: the rdma tool and, for dynamic suites, the rxe provider.
  local multiarch=/usr/lib/x86_64-linux-gnu rdma provider
  for rdma in /usr/bin/rdma /bin/rdma /sbin/rdma /usr/sbin/rdma; do
    [[ -f $sysroot$rdma ]] && copy_with_libs "$sysroot$rdma" usr/bin/rdma && break
  done
  if ((dynamic)); then
    for provider in "$sysroot$multiarch"/libibverbs/librxe-*.so; do
      [[ -e $provider ]] || continue
      copy_with_libs "$sysroot$(sysroot_real "${provider#"$sysroot"}")" "${provider#"$sysroot"/}"
    done
    if [[ -f $sysroot/etc/libibverbs.d/rxe.driver ]]; then
      mkdir -p "$stage/etc/libibverbs.d"
      cp "$sysroot/etc/libibverbs.d/rxe.driver" "$stage/etc/libibverbs.d/"
    fi
  fi
  pack "$out"
}

modules() {
  local out=$1 dir=$2
  [[ -f $dir/load-order ]] || die "$dir has no load-order (see harness/vm/modules.py)"
  mkdir -p "$stage/lib/modules/ringcheck"
  cp "$dir"/*.ko "$dir/load-order" "$stage/lib/modules/ringcheck/" 2>/dev/null || cp "$dir/load-order" "$stage/lib/modules/ringcheck/"
  pack "$out"
}

case ${1:-} in
  base | modules)
    mode=$1
    shift
    (($# >= 1)) || die "$mode needs an output file"
    "$mode" "$@"
    ;;
  *)
    echo "usage: initramfs.sh base OUT --sysroot TAR --busybox FILE --init FILE --probe FILE --runner FILE [--expectations DIR|FILE]... [--suite NAME LABEL FILE]..." >&2
    echo "       initramfs.sh modules OUT KERNEL_MODULES_DIR" >&2
    exit 64
    ;;
esac
