#!/usr/bin/env bash
# initramfs.sh: the cpio archives a ringcheck guest boots from.
#
#   initramfs.sh base OUT --init FILE --probe FILE --runner FILE [--expectations DIR|FILE]...
#                [--busybox FILE] [--sysroot TAR] [--suite NAME LABEL FILE]...
#   initramfs.sh modules OUT KERNEL_MODULES_DIR
#
# base: static busybox, /init, the probe, the expectations files and the
# suite binaries (listed in /ringcheck/suites.txt in the order given). A
# dynamically linked binary (a suite that uses libibverbs) brings its shared
# libraries and the dynamic loader; libibverbs' rxe provider and iproute2's
# rdma tool come along (from this machine) so the guest can create a
# soft-RoCE device. modules: a kernel's modules directory (kernel_fetch.sh)
# under /lib/modules/ringcheck. The kernel accepts the two archives
# concatenated, so one base serves every kernel.
#
# Archives are uncompressed newc: the guest skips decompression, which costs
# more under TCG than reading a larger file costs the host.
#
# --sysroot TAR (Bazel: @guest_userland//:sysroot.tar, bazel/guest_inputs.bzl)
# takes every shared library, the dynamic loader, the rxe provider and the
# rdma tool from that tarball of unpacked Debian packages instead of this
# machine's /usr: each library is found by the binary's NEEDED entries and
# interpreter in the sysroot, with its chain of symlinks. Without it (as
# ./ringcheck vm runs it), they come from this machine.
set -euo pipefail

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

# copy_keeping_links PATH: PATH at the same place in the tree, with the chain
# of symlinks that leads to the real file (libibverbs.so.1 ->
# libibverbs.so.1.14.44.0: the verbs suite reads the release from that name).
copy_keeping_links() {
  local path=$1 target
  while [[ -L $path ]]; do
    target=$(readlink "$path")
    mkdir -p "$stage$(dirname "$path")"
    ln -sfn "$target" "$stage$path"
    [[ $target == /* ]] || target=$(dirname "$path")/$target
    path=$target
  done
  mkdir -p "$stage$(dirname "$path")"
  [[ -e $stage$path ]] || cp "$path" "$stage$path"
}

# sysroot_real PATH: the file PATH (a path inside the image) is in the
# sysroot, its symlinks followed inside the sysroot (they may be absolute).
sysroot_real() {
  local path=$1 target n=0
  while [[ -L $sysroot$path ]] && ((n++ < 40)); do
    target=$(readlink "$sysroot$path")
    [[ $target == /* ]] || target=$(dirname "$path")/$target
    path=$target
  done
  printf '%s' "$path"
}

# sysroot_lib NAME: where the loader finds library NAME in the image.
sysroot_lib() {
  local d
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib; do
    if [[ -e $sysroot$d/$1 || -L $sysroot$d/$1 ]]; then
      printf '%s' "$d/$1"
      return 0
    fi
  done
  return 1
}

# copy_from_sysroot PATH: PATH of the sysroot at the same place in the tree,
# with its chain of symlinks.
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

# sysroot_closure FILE: the interpreter and every library FILE needs, found
# in the sysroot by NEEDED entries (transitively), as paths in the image.
sysroot_closure() {
  local file=$1 f name p interp
  local -a queue=("$file")
  local -A seen=()
  interp=$(readelf -l "$file" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
  [[ -z $interp ]] || printf '%s\n' "$interp"
  while ((${#queue[@]} > 0)); do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    for name in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
      [[ -z ${seen[$name]:-} ]] || continue
      seen[$name]=1
      p=$(sysroot_lib "$name") || die "$name (needed by ${f##*/}) is not in the guest sysroot"
      printf '%s\n' "$p"
      queue+=("$sysroot$(sysroot_real "$p")")
    done
  done
}

# copy_with_libs FILE DEST: FILE at DEST in the tree, and if it is dynamically
# linked, its shared libraries and loader at their own paths (from the
# sysroot when there is one, else from this machine).
copy_with_libs() {
  local file=$1 dest=$2 lib
  mkdir -p "$stage/$(dirname "$dest")"
  cp -L "$file" "$stage/$dest"
  chmod 0755 "$stage/$dest"
  if [[ -n $sysroot ]]; then
    while read -r lib; do
      copy_from_sysroot "$lib"
    done < <(sysroot_closure "$file")
  elif ldd "$file" >/dev/null 2>&1; then
    # "libx.so => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)"
    while read -r lib; do
      [[ -e $stage$lib ]] || copy_keeping_links "$lib"
    done < <(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
  fi
}

base() {
  local out=$1 init="" probe="" runner="" busybox=/bin/busybox dynamic=0 expectations=() x
  shift
  mkdir -p "$stage/ringcheck/suites" "$stage/ringcheck/expectations" "$stage/bin"
  while (($# > 0)); do
    case $1 in
      --init) init=$2 && shift 2 ;;
      --probe) probe=$2 && shift 2 ;;
      --runner) runner=$2 && shift 2 ;;
      --expectations) expectations+=("$2") && shift 2 ;;
      --busybox) busybox=$2 && shift 2 ;;
      --sysroot)
        [[ -f $2 ]] || die "no sysroot tarball at $2"
        sysroot=$(mktemp -d "${TMPDIR:-/tmp}/ringcheck-sysroot.XXXXXX")
        tar -C "$sysroot" -xf "$2" || die "cannot unpack the sysroot $2"
        shift 2
        ;;
      --suite)
        (($# >= 4)) || die "--suite needs NAME LABEL FILE"
        [[ -x $3 || -x $4 ]] || die "suite binary $4 does not exist"
        copy_with_libs "$4" "ringcheck/suites/$2"
        ldd "$4" >/dev/null 2>&1 && dynamic=1
        echo "$2 $3" >>"$stage/ringcheck/suites.txt"
        shift 4
        ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
  [[ -f $init && -f $probe && -f $runner ]] || die "base needs --init, --probe and --runner"
  [[ -x $busybox ]] || die "no static busybox at $busybox (apt-get install busybox-static)"
  ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not statically linked (apt-get install busybox-static)"
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
  local multiarch=/usr/lib/x86_64-linux-gnu
  if [[ -n $sysroot ]]; then
    local rdma
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
  else
    if [[ -x /usr/bin/rdma ]]; then
      copy_with_libs /usr/bin/rdma usr/bin/rdma
    fi
    if ((dynamic)) && [[ -f $multiarch/libibverbs/librxe-rdmav34.so || -n $(compgen -G "$multiarch/libibverbs/librxe-*.so") ]]; then
      for provider in "$multiarch"/libibverbs/librxe-*.so; do
        copy_with_libs "$provider" "${provider#/}"
      done
      mkdir -p "$stage/etc/libibverbs.d"
      cp /etc/libibverbs.d/rxe.driver "$stage/etc/libibverbs.d/" 2>/dev/null || true
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
    echo "usage: initramfs.sh base OUT --init FILE --probe FILE --runner FILE [--expectations DIR|FILE]... [--busybox FILE] [--sysroot TAR] [--suite NAME LABEL FILE]..." >&2
    echo "       initramfs.sh modules OUT KERNEL_MODULES_DIR" >&2
    exit 64
    ;;
esac
