#!/usr/bin/env bash
# ./ringcheck bundle: a tarball that runs the conformance suites on any x86_64
# Linux machine with no compiler, Bazel or Python (kselftest-style).
#
#   bundle.sh --out FILE.tar.gz        build everything with Bazel, then pack
#   bundle.sh pack OUT VERSION COMMIT ...   pack from built files (//harness:bundle)
#
# Layout inside ringcheck-<version>-x86_64/ (see harness/bundle/README):
#   run                  POSIX sh (busybox ash is enough): probe, runner, report-ready results
#   bin/runner bin/probe static (//harness:runner_guest, //harness:probe_guest)
#   suites/<name>        the static guest twins; a dynamic twin (the verbs suite)
#                        is a small sh wrapper here and the binary in libexec/
#   libexec/<name>       dynamic twins, run with the bundle's loader and C/C++ runtime
#   lib/                 that runtime (ld-linux, libc, libstdc++, ...), never libibverbs:
#                        it and its providers must be the target's own
#   tests/<name>.list    every test of a dynamic twin, so it can SKIP each one by
#                        name where libibverbs is missing
#   suites.txt           name and Bazel label per suite (a suite that must run
#                        alone says so itself when the runner lists it)
#   expectations/ spec/ VERSION
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# The runtime of a dynamic suite comes from the guest userland sysroot.
# shellcheck source=harness/vm/sysroot.sh
source "$ROOT/harness/vm/sysroot.sh"
readonly EXIT_OK=0 EXIT_CANNOT_RUN=2 EXIT_USAGE=64

say() { printf 'ringcheck bundle: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

usage() {
  cat <<'EOF'
usage: ./ringcheck bundle [--out FILE]

Builds the static suite binaries, the probe and the runner, and packs them
with expectations/, spec/ and a POSIX ./run script into one tarball
(default: ringcheck-<version>-x86_64.tar.gz). On the target:

  tar xzf ringcheck-<version>-x86_64.tar.gz && cd ringcheck-<version>-x86_64
  ./run --out results/$(uname -r)        # KTAP on stdout, results directory
  ./ringcheck report results/*            # later, on a machine with the checkout

Exit status: 0 written, 2 could not build or write, 64 bad usage.
EOF
}

# The version: the nearest tag, else the date and the short commit.
version() {
  local v
  v=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo unknown)
  [[ $v == *.* ]] || v="$(date -u +%Y%m%d)-g$v"
  printf '%s' "$v" | tr -c 'A-Za-z0-9._+-' '_'
}

# copy_runtime BINARY LIBDIR: the shared libraries BINARY needs, but not
# libibverbs, its providers or the libraries only it pulls in (libnl): those
# belong to the target. The dynamic loader comes too, under its own name.
# Every one from the guest userland sysroot (@guest_userland, Debian
# packages: harness/vm/sysroot.sh), never from this machine's /usr.
copy_runtime() {
  local bin=$1 lib=$2 closure path
  mkdir -p "$lib"
  closure=$(sysroot_closure "$bin") || die $EXIT_CANNOT_RUN "cannot take the runtime of ${bin##*/} from the guest sysroot"
  while read -r path; do
    case ${path##*/} in
      "" | libibverbs* | libnl-* | librdmacm* | libmlx* | librxe*) continue ;;
    esac
    cp -L "$sysroot$(sysroot_real "$path")" "$lib/${path##*/}"
  done <<<"$closure"
}

# test_list BINARY: "Suite.Test" per line from --gtest_list_tests, the
# binary run with the runtime and libibverbs of the sysroot.
test_list() {
  "$sysroot$(sysroot_real "$(elf_interp "$1")")" \
    --library-path "$sysroot/lib/x86_64-linux-gnu:$sysroot/usr/lib/x86_64-linux-gnu" \
    "$1" --gtest_list_tests | awk '
    /^[^ ]/ { suite = $1; next }
    /^  / { print suite $1 }'
}

# pack OUT VERSION COMMIT --sysroot TAR --probe FILE --runner FILE
#      [--expectations FILE]... [--spec FILE]... [--suite NAME LABEL FILE]...
# Stages the bundle from built files and writes OUT (a .tar.gz) atomically.
# //harness:bundle calls this directly; --out builds first, then calls it.
# TAR is @guest_userland//:sysroot.tar: the runtime of a dynamic suite.
pack() {
  local out=$1 ver=$2 commit=$3 probe="" runner="" sysroot_tar="" name label file i
  shift 3
  local top dir suites=()
  work=$(mktemp -d "${TMPDIR:-/tmp}/ringcheck-bundle.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  top="ringcheck-$ver-x86_64"
  dir=$work/$top
  mkdir -p "$dir/bin" "$dir/suites" "$dir/expectations" "$dir/spec"
  : >"$dir/suites.txt"
  while (($# > 0)); do
    case $1 in
      --probe) probe=$2 && shift 2 ;;
      --runner) runner=$2 && shift 2 ;;
      --sysroot) sysroot_tar=$2 && shift 2 ;;
      --expectations) cp "$2" "$dir/expectations/" && shift 2 ;;
      --spec) cp "$2" "$dir/spec/" && shift 2 ;;
      --suite)
        (($# >= 4)) || die $EXIT_USAGE "--suite needs NAME LABEL FILE"
        suites+=("$2" "$3" "$4")
        shift 4
        ;;
      *) die $EXIT_USAGE "pack: unknown argument '$1'" ;;
    esac
  done
  [[ -f $probe && -f $runner ]] || die $EXIT_USAGE "pack needs --probe and --runner"
  [[ -f $sysroot_tar ]] || die $EXIT_USAGE "pack needs --sysroot, the guest userland tarball (@guest_userland//:sysroot.tar)"
  is_dynamic "$probe" && die $EXIT_USAGE "$probe is not statically linked"
  sysroot=$work/sysroot
  mkdir -p "$sysroot"
  tar -C "$sysroot" -xf "$sysroot_tar" || die $EXIT_CANNOT_RUN "cannot unpack the sysroot $sysroot_tar"
  for ((i = 0; i < ${#suites[@]}; i += 3)); do
    name=${suites[i]} label=${suites[i + 1]} file=${suites[i + 2]}
    if is_dynamic "$file"; then
      mkdir -p "$dir/libexec" "$dir/tests"
      install -m 0755 "$file" "$dir/libexec/$name"
      copy_runtime "$file" "$dir/lib"
      test_list "$file" >"$dir/tests/$name.list" || die $EXIT_CANNOT_RUN "cannot list the tests of $file"
      install -m 0755 "$HERE/dynamic_suite.sh" "$dir/suites/$name"
    else
      install -m 0755 "$file" "$dir/suites/$name"
    fi
    echo "$name $label" >>"$dir/suites.txt"
  done
  install -m 0755 "$probe" "$dir/bin/probe"
  install -m 0755 "$runner" "$dir/bin/runner"
  install -m 0755 "$HERE/run" "$dir/run"
  cp "$HERE/README" "$dir/README"
  printf '%s\n' "$ver" >"$dir/VERSION"
  printf '%s\n' "$commit" >"$dir/COMMIT"
  mkdir -p "$(dirname "$out")" || die $EXIT_CANNOT_RUN "cannot create $(dirname "$out")"
  # Fixed owner and times: the same inputs give the same tarball.
  tar -C "$work" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf - "$top" | gzip -n >"$out.tmp.$$" ||
    die $EXIT_CANNOT_RUN "cannot write $out"
  mv "$out.tmp.$$" "$out"
}

if [[ ${1:-} == pack ]]; then
  shift
  (($# >= 3)) || die $EXIT_USAGE "pack needs OUT VERSION COMMIT"
  pack "$@"
  exit $EXIT_OK
fi

out=""
while (($# > 0)); do
  case $1 in
    --out)
      [[ $# -ge 2 ]] || die $EXIT_USAGE "--out needs a file name"
      out=$2
      shift 2
      ;;
    -h | --help)
      usage
      exit $EXIT_OK
      ;;
    *) die $EXIT_USAGE "unknown argument '$1' (try --help)" ;;
  esac
done

cd "$ROOT"
ver=$(version)
[[ -n $out ]] || out="ringcheck-$ver-x86_64.tar.gz"
[[ $out == /* ]] || out="$PWD/$out"

say "building the static suites"
mapfile -t labels < <(bazel query --noshow_progress 'attr(tags, "conformance", tests(//suites/...))' 2>/dev/null | sort)
((${#labels[@]} > 0)) || die $EXIT_CANNOT_RUN "no conformance suites found under //suites"
targets=(//harness:probe_guest //harness:runner_guest @guest_userland//:sysroot.tar)
for label in "${labels[@]}"; do targets+=("${label}_guest"); done
log=$(mktemp "${TMPDIR:-/tmp}/ringcheck-bundle.XXXXXX.log")
if ! bazel build --noshow_progress "${targets[@]}" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die $EXIT_CANNOT_RUN "the build failed (full log: $log)"
fi
rm -f "$log"
bin_dir=$(bazel info bazel-bin 2>/dev/null)
sysroot_tar=$(bazel info output_base 2>/dev/null)/external/guest_userland/sysroot.tar

args=()
for label in "${labels[@]}"; do
  path="$bin_dir/$(sed -e 's|^//||' -e 's|:|/|' <<<"$label")_guest"
  args+=(--suite "$(basename "${path%_guest}")" "$label" "$path")
done
for f in "$ROOT"/expectations/*.txt; do args+=(--expectations "$f"); done
for f in "$ROOT"/spec/*.md; do args+=(--spec "$f"); done
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
pack "$out" "$ver" "$commit" --sysroot "$sysroot_tar" --probe "$bin_dir/harness/probe_guest" --runner "$bin_dir/harness/runner_guest" "${args[@]}"
say "wrote $out ($(du -h "$out" | cut -f1)); unpack it and run ./ringcheck-$ver-x86_64/run"
