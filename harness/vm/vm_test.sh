#!/usr/bin/env bash
# Bazel test: one Debian kernel under qemu with the base initramfs (see
# harness/vm/BUILD). Passes when the guest runs to the end and no test
# FAILs or ERRORs; XFAILs (expectations/*.txt) and SKIPs are fine. The
# results directory and its report land in the test's undeclared outputs
# (bazel-testlogs/harness/vm/<test>/test.outputs/outputs.zip).
#
#   vm_test.sh VMLINUZ MODULES_CPIO KERNEL_JSON BASE_CPIO SUITE...
set -euo pipefail

(($# >= 4)) || {
  echo "usage: vm_test.sh VMLINUZ MODULES_CPIO KERNEL_JSON BASE_CPIO SUITE..." >&2
  exit 64
}
vmlinuz=$1 modules=$2 kernel_json=$3 base=$4
shift 4
runfiles=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-ringcheck}
vm=$runfiles/harness/vm
reports=$runfiles/reports

source=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"])' "$kernel_json")
release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' "$kernel_json")
accel=$("$vm/accel.sh" "${RINGCHECK_ACCEL:-auto}" "$vmlinuz" "$base")
echo "$source: booting under $accel"

results=${TEST_TMPDIR:-/tmp}/results
rm -rf "$results"
suites=()
for s in "$@"; do suites+=(--suite "$s"); done
rc=0
python3 "$vm/boot.py" --kernel "$vmlinuz" --initrd "$base" --initrd "$modules" --out "$results" \
  --source "$source" --release "$release" --accel "$accel" --timeout "${RINGCHECK_BINARY_TIMEOUT:-300}" \
  --label "${source%% *}" "${suites[@]}" || rc=$?
((rc == 0 || rc == 6)) || {
  echo "$source: qemu could not be run (boot.py exit $rc)"
  exit 1
}
report_rc=0
python3 "$reports/report.py" "$results" --out "$results" --summary || report_rc=$?
if [[ -n ${TEST_UNDECLARED_OUTPUTS_DIR:-} ]]; then
  cp -r "$results" "$TEST_UNDECLARED_OUTPUTS_DIR/$release"
fi
if ((rc == 6)); then
  echo "$source: the guest did not run to the end (see the ERROR above and console.log in the outputs)"
  exit 1
fi
exit "$report_rc"
