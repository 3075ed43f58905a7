#!/usr/bin/env bash
# The bundle in a Debian guest: unpacked into an initramfs with busybox
# alone (no libc, Python or libibverbs), booted under qemu, ./run as /init's
# child. Passes when the guest runs to the end, its results read with
# ./ringcheck report show no FAIL, XPASS or ERROR, the verbs suite SKIPs
# with environment:libibverbs, and its KTAP parses and agrees with the
# results. Outputs: the results directory (test.outputs/).
#
#   bundle_guest_test.sh BUNDLE.tar.gz VMLINUZ KERNEL_JSON BUSYBOX KTAP_CHECK.py
set -euo pipefail

bundle=$(realpath "$1") vmlinuz=$2 kernel_json=$3 busybox=$4 ktap_check=$5
runfiles=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-ringcheck}
vm=$runfiles/harness/vm
reports=$runfiles/reports
here=$runfiles/harness/bundle
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bundle-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
mkdir -p "$stage/bin" "$stage/bundle"
ldd "$busybox" >/dev/null 2>&1 && fail "$busybox is not statically linked"
cp "$busybox" "$stage/bin/busybox"
install -m 0755 "$here/guest_init.sh" "$stage/init"
tar -C "$stage/bundle" -xzf "$bundle"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/bundle.cpio"

source=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"])' "$kernel_json")
release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' "$kernel_json")
accel=$("$vm/accel.sh" "${RINGCHECK_ACCEL:-auto}" "$vmlinuz" "$work/bundle.cpio")
echo "$source: booting the bundle under $accel"
results=$work/results
mapfile -t suites < <(awk '{print "--suite\n" $1}' "$stage"/bundle/*/suites.txt)
rc=0
python3 "$vm/boot.py" --kernel "$vmlinuz" --initrd "$work/bundle.cpio" --out "$results" \
  --source "$source (bundle)" --release "$release" --accel "$accel" --timeout "${RINGCHECK_BINARY_TIMEOUT:-300}" \
  --label "${source%% *} bundle" "${suites[@]}" || rc=$?
[[ -z ${TEST_UNDECLARED_OUTPUTS_DIR:-} ]] || cp -r "$results" "$TEST_UNDECLARED_OUTPUTS_DIR/$release-bundle" 2>/dev/null || true
((rc == 0)) || fail "the guest did not run to the end (boot.py exit $rc)"
[[ -f $results/bundle-run.json ]] || fail "the bundle wrote no run.json"
report_rc=0
python3 "$reports/report.py" "$results" --out "$results" --summary || report_rc=$?
[[ -z ${TEST_UNDECLARED_OUTPUTS_DIR:-} ]] || { rm -rf "$TEST_UNDECLARED_OUTPUTS_DIR/$release-bundle"; cp -r "$results" "$TEST_UNDECLARED_OUTPUTS_DIR/$release-bundle"; }
((report_rc == 0)) || fail "./ringcheck report says something FAILed, XPASSed or ERRORed (exit $report_rc)"
python3 "$ktap_check" "$results/logs/ktap.txt" --results "$results" || fail "the guest's KTAP does not parse or disagrees"
python3 - "$results/report.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["kernels"][0]
verbs = [t for t in k["tests"] if t["binary"] == "verbs_test"]
assert verbs and all(t["verdict"] == "SKIP" and t["reason"].startswith("environment:libibverbs") for t in verbs), \
    "the verbs suite did not SKIP for the missing libibverbs"
print(f"bundle in the guest: {k['summary']}; verbs_test: {len(verbs)} SKIPs (no libibverbs)")
PY
echo "PASS: the bundle ran in the $source guest"
