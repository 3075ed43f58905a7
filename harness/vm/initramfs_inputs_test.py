#!/usr/bin/env python3
"""Every file a guest boots comes from a declared input.

    initramfs_inputs_test.py --vm VM_SH BASE_CPIO MODULES_CPIO SYSROOT_TAR INPUT...

Lists the base initramfs (//harness/vm:base_initramfs, cpio) and matches
each regular file by content (sha256) against the declared inputs: the
files of the guest userland sysroot (@guest_userland, Debian packages
fetched by a repository rule) and the other files the genrule was given
(built suite twins, probe, runner, /init, expectations, busybox). Symlinks
must point at a file of the image; ringcheck/suites.txt, the one file
initramfs.sh writes, may only name suites the image holds. The kernel's
modules.cpio (made by the debian_kernel repository rule from the kernel
package) may hold only lib/modules/ringcheck/.

Then ./ringcheck vm (VM_SH) itself: run with a stand-in `bazel` that hands
it BASE_CPIO as the output of whatever it asks for, and a stand-in qemu
(RINGCHECK_QEMU) that keeps the initrd it is given, for a kernel image with
a modules directory (the kernel package's modules, from MODULES_CPIO). It
must ask Bazel for //harness/vm:base_initramfs alone, and boot that image
byte for byte followed by a modules archive; every file of what it boots is
a declared input or one of the kernel package's modules. Nothing may come
from this machine's /usr.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest

ARGS = []
VM_SH = None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def newc_members(data):
    """(name, kind, data or link target) of every member of one or more
    concatenated newc archives (as the kernel reads an initrd)."""
    out, off = [], 0
    while off < len(data):
        if data[off] == 0:  # padding between archives
            off += 1
            continue
        if data[off:off + 6] != b"070701":
            raise ValueError(f"no newc header at offset {off}")
        fields = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_end = off + 110 + namesize
        name = data[off + 110: name_end - 1].decode()
        body = (name_end + 3) & ~3
        content = data[body: body + size]
        off = (body + size + 3) & ~3
        if name == "TRAILER!!!":
            continue
        name = os.path.normpath(name)
        if stat.S_ISLNK(mode):
            out.append((name, "link", content.decode()))
        elif stat.S_ISREG(mode):
            out.append((name, "file", content))
        else:
            out.append((name, "other", None))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def declared_inputs():
    """sha256 -> origin for the sysroot's files and the genrule's other inputs."""
    base, modules, sysroot = ARGS[:3]
    declared = {}
    with tarfile.open(sysroot) as t:
        for m in t.getmembers():
            if m.isfile():
                declared[sha256(t.extractfile(m).read())] = "@guest_userland sysroot: " + m.name
    for path in ARGS[3:]:
        declared.setdefault(sha256(read(path)), path)
    return declared


def kernel_modules():
    """sha256 -> origin for the modules the debian_kernel rule took from the kernel package."""
    return {sha256(data): "kernel package module: " + name
            for name, kind, data in newc_members(read(ARGS[1])) if kind == "file" and name.endswith(".ko")}


class ImageChecks:
    """Checks every image test shares; self.members is the image's list."""

    def origins(self, declared):
        """name -> origin of every file; fails on a file no declared input holds."""
        undeclared, origins = [], {}
        names = {name for name, _, _ in self.members}
        for name, kind, data in self.members:
            if kind != "file":
                continue
            if name == "ringcheck/suites.txt":
                # Written by initramfs.sh from its arguments: "NAME LABEL" per suite it packed.
                for line in data.decode().splitlines():
                    suite, label = line.split()
                    self.assertIn(f"ringcheck/suites/{suite}", names)
                    self.assertTrue(label.startswith("//suites/"), line)
                origins[name] = "written by initramfs.sh: the list of the suites it packed"
                continue
            if name == "lib/modules/ringcheck/load-order":
                # Written by modules.py: the module names in the order to load them.
                for module in data.decode().split():
                    self.assertIn(f"lib/modules/ringcheck/{module}.ko", names)
                origins[name] = "written by modules.py: the modules the image holds, in load order"
                continue
            origin = declared.get(sha256(data))
            if origin is None:
                undeclared.append(name)
            else:
                origins[name] = origin
        for name in sorted(origins):
            print(f"{name}  <-  {origins[name]}", file=sys.stderr)
        self.assertEqual(undeclared, [], "files of the initramfs that no declared input holds")
        self.assertGreater(len(origins), 10)
        self.assertTrue(any("sysroot" in o for o in origins.values()), "nothing came from the sysroot")
        return origins

    def check_links_stay_inside_the_image(self):
        names = {name for name, _, _ in self.members}
        for name, kind, target in self.members:
            if kind != "link":
                continue
            resolved = os.path.normpath(target.lstrip("/") if target.startswith("/")
                                        else os.path.join(os.path.dirname(name), target))
            self.assertIn(resolved, names, f"{name} -> {target} points outside the image")

    def check_the_userland_a_guest_needs_is_there(self):
        names = {name for name, _, _ in self.members}
        for needed in ("bin/busybox", "init", "ringcheck/probe", "ringcheck/runner", "lib64/ld-linux-x86-64.so.2"):
            self.assertIn(needed, names)


class InitramfsInputs(unittest.TestCase, ImageChecks):
    """//harness/vm:base_initramfs, which the Bazel guest tests boot."""

    @classmethod
    def setUpClass(cls):
        cls.declared = declared_inputs()
        cls.members = newc_members(read(ARGS[0]))

    def test_every_file_is_a_declared_input(self):
        self.origins(self.declared)

    def test_links_stay_inside_the_image(self):
        self.check_links_stay_inside_the_image()

    def test_the_userland_a_guest_needs_is_there(self):
        self.check_the_userland_a_guest_needs_is_there()

    def test_modules_come_from_the_kernel_package_rule(self):
        for name, kind, _ in newc_members(read(ARGS[1])):
            if kind == "file":
                self.assertTrue(name.startswith("lib/modules/ringcheck/"), name)


STUB_BAZEL = """#!/bin/sh
# bazel as ./ringcheck vm calls it: build (noted, nothing built), info bazel-bin.
echo "$*" >>"$STUB_LOG"
case $1 in
  build) exit 0 ;;
  info) [ "$2" = bazel-bin ] && echo "$STUB_BIN" && exit 0 ;;
esac
echo "stub bazel: unexpected call: $*" >&2
exit 2
"""

STUB_QEMU = """#!/bin/sh
# qemu that keeps the initrd it was given, then ends as a guest that died.
while [ $# -gt 0 ]; do
  if [ "$1" = -initrd ]; then
    n=$(ls "$STUB_BOOTED" | wc -l)
    cp "$2" "$STUB_BOOTED/initrd.$n"
  fi
  shift
done
exit 1
"""


class RingcheckVmImage(unittest.TestCase, ImageChecks):
    """What ./ringcheck vm boots for a kernel image with its modules directory."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        w = lambda *p: os.path.join(cls.work, *p)
        os.makedirs(w("bin", "harness", "vm"))
        os.makedirs(w("stubs"))
        os.makedirs(w("booted"))
        # The Bazel target's output, where `bazel info bazel-bin` says it is.
        os.symlink(os.path.abspath(ARGS[0]), w("bin", "harness", "vm", "base_initramfs.cpio"))
        for name, text in (("bazel", STUB_BAZEL), ("qemu", STUB_QEMU)):
            with open(w("stubs", name), "w") as f:
                f.write(text)
            os.chmod(w("stubs", name), 0o755)
        # A kernel image (never booted: qemu is the stand-in) and the kernel
        # package's modules as an unpacked modules directory.
        with open(w("bzImage"), "wb") as f:
            f.write(b"not a kernel\n")
        for name, kind, data in newc_members(read(ARGS[1])):
            if kind == "file" and name.endswith(".ko"):
                os.makedirs(os.path.dirname(w("modroot", name)), exist_ok=True)
                with open(w("modroot", name), "wb") as f:
                    f.write(data)
        env = dict(os.environ, PATH=w("stubs") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                   RINGCHECK_QEMU=w("stubs", "qemu"), RINGCHECK_CACHE=w("cache"), STUB_LOG=w("bazel.log"),
                   STUB_BIN=w("bin"), STUB_BOOTED=w("booted"))
        env.pop("RINGCHECK_VM_APPEND", None)
        run = subprocess.run([VM_SH, f"{w('bzImage')}:{w('modroot')}", "--out", w("out"), "--accel", "tcg",
                              "--timeout", "5"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        cls.output = run.stdout.decode(errors="replace")
        cls.returncode = run.returncode
        # vm.sh's own lines (the report's list of the ERRORs of a guest that died is long).
        print("\n".join(l for l in cls.output.splitlines() if l.startswith("ringcheck vm:")), file=sys.stderr)
        with open(w("bazel.log")) as f:
            cls.bazel_calls = [line.split() for line in f]
        cls.booted = [read(w("booted", n)) for n in sorted(os.listdir(w("booted")))]
        cls.base = read(ARGS[0])
        cls.members = newc_members(cls.booted[0]) if cls.booted else []

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_vm_sh_ran_as_far_as_the_guest(self):
        # The stand-in qemu dies at once: a guest that died, exit 6.
        self.assertEqual(self.returncode, 6, self.output)
        self.assertTrue(self.booted, "qemu was never started")

    def test_asks_bazel_for_the_guest_tests_image_alone(self):
        builds = [c for c in self.bazel_calls if c[0] == "build"]
        self.assertEqual(len(builds), 1, self.bazel_calls)
        targets = [a for a in builds[0][1:] if not a.startswith("-")]
        self.assertEqual(targets, ["//harness/vm:base_initramfs"])

    def test_boots_the_bazel_image_and_a_modules_archive(self):
        for image in self.booted:
            self.assertEqual(image[:len(self.base)], self.base, "the image does not begin with //harness/vm:base_initramfs")
            added = newc_members(image[len(self.base):])
            self.assertTrue(added, "no modules archive after the base")
            for name, kind, _ in added:
                self.assertTrue(kind == "other" or name.startswith("lib/modules/ringcheck/"), name)

    def test_every_file_is_a_declared_input(self):
        declared = declared_inputs()
        declared.update(kernel_modules())
        origins = self.origins(declared)
        self.assertTrue(any(o.startswith("kernel package module") for o in origins.values()), "no module")
        self.assertIn("lib/modules/ringcheck/rdma_rxe.ko", origins)

    def test_links_stay_inside_the_image(self):
        self.check_links_stay_inside_the_image()

    def test_the_userland_a_guest_needs_is_there(self):
        self.check_the_userland_a_guest_needs_is_there()


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--vm"]:
        VM_SH = os.path.abspath(argv[1])
        argv = argv[2:]
    ARGS.extend(argv)
    del sys.argv[1:]
    if VM_SH is None:
        del RingcheckVmImage
    unittest.main()
