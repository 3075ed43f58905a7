#!/usr/bin/env python3
"""Every file of the bundle (what bundle_guest_test boots, with busybox and
guest_init.sh) comes from a declared input.

    bundle_inputs_test.py BUNDLE.tar.gz SYSROOT_TAR INPUT...

Matches each regular file of the bundle by content (sha256) against the
files of the guest userland sysroot (@guest_userland, Debian packages) and
the other inputs of //harness/bundle:bundle (built twins, probe, runner,
expectations, spec, run, README, dynamic_suite.sh). The files bundle.sh
writes itself are checked for what they say: suites.txt names the suites
the bundle holds, tests/NAME.list belongs to a dynamic suite, VERSION and
COMMIT are one line. The runtime of a dynamic suite (lib/) must come from
the sysroot: nothing from this machine's /usr.
"""

import hashlib
import sys
import tarfile
import unittest

ARGS = []


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class BundleInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bundle, sysroot = ARGS[:2]
        cls.declared = {}
        with tarfile.open(sysroot) as t:
            for m in t.getmembers():
                if m.isfile():
                    cls.declared[sha256(t.extractfile(m).read())] = "@guest_userland sysroot: " + m.name
        for path in ARGS[2:]:
            with open(path, "rb") as f:
                cls.declared.setdefault(sha256(f.read()), path)
        cls.files = {}
        with tarfile.open(bundle) as t:
            for m in t.getmembers():
                if m.isfile():
                    cls.files[m.name.split("/", 1)[1]] = t.extractfile(m).read()
                else:
                    assert m.isdir(), f"{m.name}: only files and directories belong in the bundle"

    def test_every_file_is_a_declared_input(self):
        undeclared, origins = [], {}
        for name, data in sorted(self.files.items()):
            if name == "suites.txt":
                for line in data.decode().splitlines():
                    suite, label = line.split()
                    self.assertIn(f"suites/{suite}", self.files)
                    self.assertTrue(label.startswith("//suites/"), line)
                origins[name] = "written by bundle.sh: the suites it packed"
            elif name.startswith("tests/") and name.endswith(".list"):
                self.assertIn("libexec/" + name[len("tests/"):-len(".list")], self.files)
                origins[name] = "written by bundle.sh: the tests of a dynamic suite (--gtest_list_tests)"
            elif name in ("VERSION", "COMMIT"):
                self.assertEqual(len(data.decode().splitlines()), 1, name)
                origins[name] = "written by bundle.sh: " + data.decode().strip()
            elif sha256(data) in self.declared:
                origins[name] = self.declared[sha256(data)]
            else:
                undeclared.append(name)
        for name in sorted(origins):
            print(f"{name}  <-  {origins[name]}", file=sys.stderr)
        self.assertEqual(undeclared, [], "files of the bundle that no declared input holds")

    def test_the_runtime_comes_from_the_sysroot(self):
        runtime = [n for n in self.files if n.startswith("lib/")]
        if any(n.startswith("libexec/") for n in self.files):
            self.assertIn("lib/ld-linux-x86-64.so.2", runtime)
            self.assertIn("lib/libc.so.6", runtime)
        for name in runtime:
            origin = self.declared.get(sha256(self.files[name]), "")
            self.assertTrue(origin.startswith("@guest_userland sysroot"), f"{name} <- {origin or 'nowhere'}")
            self.assertNotRegex(name, r"lib/(libibverbs|libnl-|librdmacm|libmlx|librxe)",
                                "libibverbs and its libraries belong to the target")


if __name__ == "__main__":
    ARGS.extend(sys.argv[1:])
    del sys.argv[1:]
    unittest.main()
