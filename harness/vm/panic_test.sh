#!/usr/bin/env bash
# A guest kernel that panics is an ERROR for that kernel with its console,
# and boot.py says so in one sentence with exit status 6.
#
#   panic_test.sh VMLINUZ BASE_CPIO
set -euo pipefail

runfiles=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-ringcheck}
out=${TEST_TMPDIR:-/tmp}/panicked
rm -rf "$out"
rc=0
msg=$(python3 "$runfiles/harness/vm/boot.py" --kernel "$1" --initrd "$2" --out "$out" --accel tcg \
  --label panic --suite nop_test --append ringcheck.mode=panic 2>&1) || rc=$?
echo "$msg"
[[ $rc == 6 ]] || { echo "FAIL: boot.py exited $rc, want 6"; exit 1; }
[[ $msg == *"the guest kernel panicked"*"Kernel panic - not syncing: sysrq triggered crash"* ]] ||
  { echo "FAIL: no one-sentence panic message"; exit 1; }
rc=0
python3 "$runfiles/reports/report.py" "$out" --out "$out" || rc=$?
[[ $rc == 1 ]] || { echo "FAIL: report.py exited $rc, want 1"; exit 1; }
python3 - "$out/report.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["kernels"][0]
errors = {t["name"]: t for t in k["tests"] if t["verdict"] == "ERROR"}
assert "VM.GuestRanToTheEnd" in errors, errors
assert any("sysrq triggered crash" in l for l in errors["VM.GuestRanToTheEnd"]["kernel_log"]), "no console excerpt"
assert "nop_test" in errors, "the binary that never ran is not an ERROR"
assert k["health"]["red"], "a panic must turn kernel health red"
print("panic reported as ERROR with the console excerpt; kernel health red")
PY

# A kernel that dies before its userspace starts (here: no init to run) is
# booted once more, both outcomes are kept, and only then is it an ERROR.
out=${TEST_TMPDIR:-/tmp}/no-userspace
rm -rf "$out"
rc=0
msg=$(python3 "$runfiles/harness/vm/boot.py" --kernel "$1" --initrd "$2" --out "$out" --accel tcg \
  --label early --suite nop_test --boot-timeout 60 --append "rdinit=/no/such/init panic=-1" 2>&1) || rc=$?
echo "$msg"
[[ $rc == 6 ]] || { echo "FAIL: boot.py exited $rc, want 6"; exit 1; }
[[ $msg == *"before its userspace started"*"booting it once more"* ]] ||
  { echo "FAIL: boot.py did not say it boots again"; exit 1; }
python3 - "$out/run.json" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))["vm"]
assert vm["status"] != "ok", vm["status"]
assert len(vm.get("earlier_boots", [])) == 1, vm.get("earlier_boots")
assert vm["earlier_boots"][0]["console_excerpt"], "the first boot's console is kept"
print(f"died before userspace twice: {vm['status']}, first boot kept ({vm['earlier_boots'][0]['status']})")
PY
