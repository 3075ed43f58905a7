#!/usr/bin/env bash
# kernel_fetch.sh SERIES CACHE_DIR: the newest Debian amd64 kernel of a series,
# ready to boot, in the cache; prints its directory.
#
# SERIES is 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie) or 7.2 (sid). The
# newest "linux-image-SERIES*-amd64" (by version, not name) is resolved from
# that suite's package list through a private apt configuration (the
# machine's apt sources and state are never touched); when that package only
# depends on linux-binary-* / linux-modules-* (7.2), those are fetched too.
#
# The kernel directory (CACHE_DIR/kernels/<package>_<version>/) holds
#   vmlinuz       the kernel image
#   modules/      rdma_rxe, dummy and their dependencies, uncompressed, with
#                 load-order (see modules.py)
#   kernel.json   series, suite, packages, release, source
# and is reused as long as it is complete. Package lists are refreshed once a
# day; when the archive cannot be reached, the last lists are used.
#
# Exit status: 0 ok, 4 the kernel could not be resolved or fetched, 64 usage.
set -euo pipefail

readonly EXIT_NOT_FOUND=4 EXIT_USAGE=64
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf 'kernel_fetch: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit $EXIT_NOT_FOUND
}

(($# == 2)) || {
  echo "usage: kernel_fetch.sh SERIES CACHE_DIR" >&2
  exit $EXIT_USAGE
}
series=$1 cache=$2
case $series in
  5.10) suite=bullseye ;;
  6.1) suite=bookworm ;;
  6.12) suite=trixie ;;
  7.2) suite=sid ;;
  *)
    say "unknown kernel series '$series' (known: 5.10, 6.1, 6.12, 7.2)"
    exit $EXIT_USAGE
    ;;
esac
# The modules the guest loads (soft-RoCE and what it needs; see modules.py).
wanted_modules=$(python3 "$HERE/modules.py" --defaults)

mkdir -p "$cache/apt/$suite" "$cache/kernels"
cache=$(cd "$cache" && pwd)
apt_dir=$cache/apt/$suite

mirror_uri() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk 'tolower($1)=="uris:" {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  fi
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list || true)
  fi
  printf '%s' "$uri"
}

# One fetch at a time per suite: the CLI and Bazel's repository rule share the cache.
exec 9>"$apt_dir/.lock"
flock 9

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
: >"$apt_dir/preferences"
opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::preferences=$apt_dir/preferences" -o "Dir::Etc::preferencesparts=$apt_dir/sources.list.d"
  -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1" -o "Acquire::Languages=none")

stamp=$apt_dir/lists/.updated
if [[ -z $(find "$stamp" -mmin -1440 2>/dev/null) ]]; then
  uri=${RINGCHECK_DEBIAN_MIRROR:-$(mirror_uri)}
  [[ -n $uri ]] || fail "no Debian mirror in the machine's apt sources (set RINGCHECK_DEBIAN_MIRROR)"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$apt_dir/sources.list"
  if apt-get "${opts[@]}" -q update >"$apt_dir/update.log" 2>&1; then
    touch "$stamp"
  elif [[ -e $stamp ]]; then
    say "cannot refresh the $suite package list; using the one from $(date -r "$stamp" +%F)"
  else
    fail "cannot read Debian $suite's package list ($(grep -m1 -E '^(E|Err):' "$apt_dir/update.log" || echo 'apt-get update failed'))"
  fi
fi

version_of() { apt-cache "${opts[@]}" show --no-all-versions "$1" 2>/dev/null | awk '$1=="Version:" {print $2; exit}'; }

# The newest flavourless amd64 image of the series: linux-image-6.1.0-50-amd64,
# linux-image-6.12.107+deb13-amd64 (not -cloud-amd64, -rt-amd64, -dbg).
pattern="^linux-image-${series//./\\.}\\.[0-9]+(-[0-9]+|\\+deb[0-9]+)-amd64\$"
best="" best_version=""
while read -r name; do
  v=$(version_of "$name")
  [[ -n $v ]] || continue
  if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best_version"; then
    best=$name best_version=$v
  fi
done < <(apt-cache "${opts[@]}" pkgnames "linux-image-$series" 2>/dev/null | grep -E "$pattern" | sort)
[[ -n $best ]] || fail "Debian $suite has no linux-image-$series*-amd64 package"

kdir=$cache/kernels/${best}_$best_version
if [[ -f $kdir/.complete && $(cat "$kdir/modules/wanted" 2>/dev/null) == "$wanted_modules" ]]; then
  printf '%s\n' "$kdir"
  exit 0
fi

# 7.2 and later: the image package only depends on linux-binary-*/linux-modules-*.
packages=("$best")
while read -r dep; do
  packages+=("$dep")
done < <(apt-cache "${opts[@]}" show --no-all-versions "$best" | awk -F': ' '$1=="Depends" {print $2}' |
  tr ',' '\n' | sed -E 's/^ *//; s/ .*//' | grep -E '^linux-(binary|modules)-' || true)

work=$(mktemp -d "$cache/kernels/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root" "$work/out"
for pkg in "${packages[@]}"; do
  say "downloading $pkg $(version_of "$pkg") from Debian $suite"
  (cd "$work/debs" && apt-get "${opts[@]}" -q download "$pkg=$(version_of "$pkg")" >"$work/download.log" 2>&1) ||
    fail "cannot download $pkg from Debian $suite ($(grep -m1 -E '^(E|Err):' "$work/download.log" || echo 'apt-get download failed'))"
done
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done

image=$(find "$work/root/boot" "$work/root/usr/lib/modules" "$work/root/lib/modules" -maxdepth 2 \
  \( -name 'vmlinuz-*' -o -name vmlinuz \) -type f 2>/dev/null | head -n1 || true)
[[ -n $image ]] || fail "$best has no kernel image (no boot/vmlinuz-* or modules/*/vmlinuz)"
moddir=$(find "$work/root/lib/modules" "$work/root/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1 || true)
[[ -n $moddir ]] || fail "$best has no modules directory"
release=$(basename "$moddir")
cp "$image" "$work/out/vmlinuz"
python3 "$HERE/modules.py" "$moddir" "$work/out/modules"
echo "$wanted_modules" >"$work/out/modules/wanted"

pkg_list=()
for pkg in "${packages[@]}"; do pkg_list+=("$pkg $(version_of "$pkg")"); done
python3 - "$work/out/kernel.json" "$series" "$suite" "$release" "${pkg_list[@]}" <<'EOF'
import json, sys
path, series, suite, release, *packages = sys.argv[1:]
json.dump({"schema": "ringcheck.kernel/1", "series": series, "suite": suite, "release": release,
           "packages": packages, "source": f"debian:{series} ({packages[0]})"},
          open(path, "w"), indent=1)
EOF
touch "$work/out/.complete"
rm -rf "$kdir"
mv "$work/out" "$kdir"
printf '%s\n' "$kdir"
