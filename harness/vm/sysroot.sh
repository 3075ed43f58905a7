# shellcheck shell=bash
# shellcheck disable=SC2154 # $sysroot is the caller's (the unpacked sysroot directory)
# sysroot.sh: sourced by initramfs.sh (the guest image) and
# harness/bundle/bundle.sh (the bundle's runtime). The shared libraries and
# the dynamic loader a binary needs, resolved in the guest userland sysroot
# ($sysroot: @guest_userland//:sysroot.tar unpacked, bazel/guest_inputs.bzl)
# by the binary's interpreter and NEEDED entries, read with readelf: never
# from this machine's /usr, never by running its loader (ldd).

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

# sysroot_closure FILE: the interpreter and every library FILE needs, found
# in the sysroot by NEEDED entries (transitively), as paths in the image;
# status 1 (and says so) when one is not in the sysroot.
sysroot_closure() {
  local file=$1 f name p interp
  local -a queue=("$file")
  local -A seen=()
  interp=$(elf_interp "$file")
  [[ -z $interp ]] || printf '%s\n' "$interp"
  while ((${#queue[@]} > 0)); do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    for name in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
      [[ -z ${seen[$name]:-} ]] || continue
      seen[$name]=1
      p=$(sysroot_lib "$name") || {
        printf '%s (needed by %s) is not in the guest sysroot\n' "$name" "${f##*/}" >&2
        return 1
      }
      printf '%s\n' "$p"
      queue+=("$sysroot$(sysroot_real "$p")")
    done
  done
}

# elf_interp FILE: FILE's program interpreter (the dynamic loader's path),
# empty for a static binary.
elf_interp() {
  { readelf -l "$1" 2>/dev/null || true; } | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p'
}

# is_dynamic FILE: FILE is an ELF executable with a program interpreter
# (read, never run: the host's loader has no say in what the guest gets).
is_dynamic() {
  [[ -n $(elf_interp "$1") ]]
}

