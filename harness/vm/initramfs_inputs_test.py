#!/usr/bin/env python3
"""Every file of the guests' base initramfs comes from a declared input.

    initramfs_inputs_test.py BASE_CPIO MODULES_CPIO SYSROOT_TAR INPUT...

Lists the initramfs (cpio) and matches each regular file by content
(sha256) against the declared inputs: the files of the guest userland
sysroot (@guest_userland, Debian packages fetched by a repository rule)
and the other files the genrule was given (built suite twins, probe,
runner, /init, expectations, busybox). Symlinks must point at a file of the
image; ringcheck/suites.txt, the one file initramfs.sh writes, may only
name suites the image holds. The kernel's modules.cpio (made by the debian_kernel repository
rule from the kernel package) may hold only lib/modules/ringcheck/.
Nothing may come from this machine's /usr.
"""

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

ARGS = []


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def cpio_members(path):
    """(name, kind, data or link target) of every member of a newc archive."""
    out = []
    with tempfile.TemporaryDirectory() as d:
        with open(path, "rb") as f:
            subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], stdin=f, cwd=d, check=True)
        for root, dirs, files in os.walk(d):
            for n in dirs + files:
                p = os.path.join(root, n)
                rel = os.path.relpath(p, d)
                if os.path.islink(p):
                    out.append((rel, "link", os.readlink(p)))
                elif os.path.isfile(p):
                    with open(p, "rb") as f:
                        out.append((rel, "file", f.read()))
    return out


class InitramfsInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        base, cls.modules, sysroot = ARGS[:3]
        cls.declared = {}
        with tarfile.open(sysroot) as t:
            for m in t.getmembers():
                if m.isfile():
                    cls.declared[sha256(t.extractfile(m).read())] = "@guest_userland sysroot: " + m.name
        for path in ARGS[3:]:
            with open(path, "rb") as f:
                cls.declared.setdefault(sha256(f.read()), path)
        cls.members = cpio_members(base)

    def test_every_file_is_a_declared_input(self):
        undeclared = []
        origins = {}
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
            origin = self.declared.get(sha256(data))
            if origin is None:
                undeclared.append(name)
            else:
                origins[name] = origin
        for name in sorted(origins):
            print(f"{name}  <-  {origins[name]}", file=sys.stderr)
        self.assertEqual(undeclared, [], "files of the initramfs that no declared input holds")
        self.assertGreater(len(origins), 10)
        self.assertTrue(any("sysroot" in o for o in origins.values()), "nothing came from the sysroot")

    def test_links_stay_inside_the_image(self):
        names = {name for name, _, _ in self.members}
        for name, kind, target in self.members:
            if kind != "link":
                continue
            resolved = os.path.normpath(target.lstrip("/") if target.startswith("/")
                                        else os.path.join(os.path.dirname(name), target))
            self.assertIn(resolved, names, f"{name} -> {target} points outside the image")

    def test_the_userland_a_guest_needs_is_there(self):
        names = {name for name, _, _ in self.members}
        for needed in ("bin/busybox", "init", "ringcheck/probe", "ringcheck/runner", "lib64/ld-linux-x86-64.so.2"):
            self.assertIn(needed, names)

    def test_modules_come_from_the_kernel_package_rule(self):
        for name, kind, _ in cpio_members(self.modules):
            if kind == "file":
                self.assertTrue(name.startswith("lib/modules/ringcheck/"), name)


if __name__ == "__main__":
    ARGS.extend(sys.argv[1:])
    del sys.argv[1:]
    unittest.main()
