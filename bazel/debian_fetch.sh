#!/usr/bin/env bash
# Fetch packages from another Debian suite without touching the system's apt
# configuration: a private sources list, state and cache under a work dir.
#
#   debian_fetch.sh WORKDIR SUITE OUTDIR PACKAGE...
#
# Each PACKAGE is a name (newest version in SUITE) or a name=version. The
# packages' contents are unpacked into OUTDIR. The archive's address is taken
# from the machine's own apt sources, so this uses whatever mirror the
# machine is set up with.
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: debian_fetch.sh WORKDIR SUITE OUTDIR PACKAGE..." >&2
  exit 64
fi
work=$1 suite=$2 out=$3
shift 3

mirror_uri() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk 'tolower($1)=="uris:" {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list || true)
  fi
  if [ -z "$uri" ]; then
    uri=$(grep -rhoE '^deb +(\[[^]]*\] +)?[a-z]+://[^ ]+' /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{print $NF}' | head -n1 || true)
  fi
  printf '%s' "$uri"
}

uri=${RINGCHECK_DEBIAN_MIRROR:-$(mirror_uri)}
if [ -z "$uri" ]; then
  echo "debian_fetch: no Debian mirror found in the machine's apt sources (set RINGCHECK_DEBIAN_MIRROR)" >&2
  exit 69
fi

mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$out"
work=$(cd "$work" && pwd)
out=$(cd "$out" && pwd)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $uri $suite main" > "$work/sources.list"
: > "$work/empty-preferences"
opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
      -o "Dir::Etc::preferences=$work/empty-preferences" -o "Dir::Etc::preferencesparts=-"
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1" -o "Acquire::Languages=none")

stamp="$work/lists/.updated-$suite"
if [ ! -f "$stamp" ]; then
  if ! apt-get "${opts[@]}" -q update >"$work/update.log" 2>&1; then
    echo "debian_fetch: apt-get update for $suite failed:" >&2
    tail -n 5 "$work/update.log" >&2
    exit 69
  fi
  touch "$stamp"
fi

cd "$work/debs"
for pkg in "$@"; do
  if ! apt-get "${opts[@]}" -q download "$pkg" >"$work/download.log" 2>&1; then
    echo "debian_fetch: could not download $pkg from $suite:" >&2
    tail -n 3 "$work/download.log" >&2
    exit 69
  fi
done
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$out"
done
