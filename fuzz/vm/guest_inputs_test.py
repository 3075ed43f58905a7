#!/usr/bin/env python3
"""Every file a fuzzing guest boots comes from a declared input.

    guest_inputs_test.py SYSROOT_TAR BUSYBOX PROGRAM...

The fuzzing guests (./ringcheck fuzz --kernel K, fuzz/vm/fuzz_vm.py) boot
a base archive (busybox, /init, the fuzzers and the programs of the
findings with their shared libraries) followed by one archive per boot
(the plan, the corpora, the inputs to replay). This test builds the base
as fuzz_vm.py does (build_base with the declared userland) and matches
each of its files by path and content (sha256) against the declared
inputs: a file of the guest userland sysroot (SYSROOT_TAR,
@guest_userland//:sysroot.tar) at its own path, the static busybox
(BUSYBOX, @guest_userland//:busybox) at /bin/busybox, a built program
(PROGRAM: the sqe fuzzer, or under the default configuration a stand-in
with its code and a plain main; zc_links) under /ringcheck/fuzz/bin, and
the repository's harness/vm/fuzz_init.sh and fuzz/<target>/<target>.dict.
Symlinks must be the sysroot's own, pointing at a file of the image.
ringcheck/fuzz/known, the one file fuzz_vm.py writes into the base, may
only hold the known findings it was given.

This machine may run the same Debian release with busybox-static
installed: its /bin/busybox and its libraries then have the very bytes of
the declared ones. So the test gives fuzz_vm.py marked copies of the
declared inputs (busybox, every file of the sysroot, the programs: each
with a line of its own appended, which readelf and the loader ignore) and
matches against those: a file taken from anywhere else lacks the mark.

Then the hand-over (fuzz/nightly.sh --kernel, with stand-ins for bazel
and qemu): nightly.sh must ask Bazel for @guest_userland//:busybox and
@guest_userland//:sysroot.tar and hand them to fuzz_vm.py, and what the
stand-in qemu is given to boot, for fuzzing and for --replay, holds only
declared files, plus the plan fuzz_vm.py writes, seed corpus units
(fuzz/<target>/corpus) and the input of the crash directory replayed.

And no fallback: with a sysroot that lacks libstdc++ (which this machine
has), or a dynamic busybox, fuzz_vm.py refuses to build the guest.
"""

import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import fuzz_vm  # noqa: E402

TARGETS = ("sqe", "register", "setup")
ARGS = {}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def newc_archives(data):
    """The members (name, kind, data or link target) of each of the
    concatenated newc archives of an initrd, one list per archive."""
    archives, members, off = [], [], 0
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
            archives.append(members)
            members = []
            continue
        name = os.path.normpath(name)
        if stat.S_ISLNK(mode):
            members.append((name, "link", content.decode()))
        elif stat.S_ISREG(mode):
            members.append((name, "file", content))
        else:
            members.append((name, "other", None))
    if members:
        archives.append(members)
    return archives


class Declared:
    """The declared inputs, by the path a guest finds each at."""

    def __init__(self, sysroot_tar, busybox, programs):
        self.files, self.links = {}, {}
        with tarfile.open(sysroot_tar) as t:
            for m in t.getmembers():
                name = os.path.normpath(m.name)
                if m.isfile():
                    self.files[name] = sha256(t.extractfile(m).read())
                elif m.issym():
                    self.links[name] = m.linkname
        self.busybox = sha256(read(busybox))
        self.programs = {sha256(read(p)): p for p in programs}
        self.repo = {"init": os.path.join("harness", "vm", "fuzz_init.sh")}
        for t in TARGETS:
            self.repo[f"ringcheck/fuzz/{t}.dict"] = os.path.join("fuzz", t, f"{t}.dict")
        self.seeds = {}
        for t in TARGETS:
            d = os.path.join(ROOT, "fuzz", t, "corpus")
            for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                self.seeds[sha256(read(os.path.join(d, n)))] = f"fuzz/{t}/corpus/{n}"

    def origin(self, name, data):
        """Where the file name (data) of a base archive comes from, or None."""
        h = sha256(data)
        if name == "bin/busybox" and h == self.busybox:
            return "@guest_userland//:busybox"
        if self.files.get(name) == h:
            return "@guest_userland//:sysroot.tar: /" + name
        if name in self.repo and h == sha256(read(os.path.join(ROOT, self.repo[name]))):
            return "repository file " + self.repo[name]
        if name.startswith("ringcheck/fuzz/bin/") and h in self.programs:
            return "built program " + os.path.basename(self.programs[h])
        return None


class ImageChecks:
    """Checks of a fuzzing guest's base archive (self.base: its members)."""

    known = ""

    def check_every_file_is_declared(self):
        undeclared, origins = [], {}
        for name, kind, data in self.base:
            if kind != "file":
                continue
            if name == "ringcheck/fuzz/known":
                # Written by fuzz_vm.py: the known findings it was given (--known).
                self.assertEqual(data.decode(), self.known + "\n")
                origins[name] = "written by fuzz_vm.py: --known"
                continue
            origin = self.declared.origin(name, data)
            if origin is None:
                undeclared.append(name)
            else:
                origins[name] = origin
        for name in sorted(origins):
            print(f"{name}  <-  {origins[name]}", file=sys.stderr)
        self.assertEqual(undeclared, [], "files of the fuzzing guest's base archive that no declared input holds")
        self.assertTrue(any("sysroot" in o for o in origins.values()), "no library came from the sysroot")
        return origins

    def check_links_are_the_sysroots(self):
        names = {name for name, _, _ in self.base}
        for name, kind, target in self.base:
            if kind != "link":
                continue
            self.assertEqual(self.declared.links.get(name), target, f"{name} -> {target} is not a link of the sysroot")
            resolved = os.path.normpath(target.lstrip("/") if target.startswith("/")
                                        else os.path.join(os.path.dirname(name), target))
            self.assertIn(resolved, names, f"{name} -> {target} points outside the image")

    def check_what_a_guest_needs_is_there(self, targets):
        names = {name for name, _, _ in self.base}
        for needed in ["bin/busybox", "init", "ringcheck/fuzz/known", "lib64/ld-linux-x86-64.so.2",
                       "usr/lib/x86_64-linux-gnu/libstdc++.so.6", "lib/x86_64-linux-gnu/libc.so.6"] + \
                [f"ringcheck/fuzz/bin/{t}_fuzzer" for t in targets]:
            self.assertIn(needed, names)


def marked(work, sysroot_tar, busybox, programs):
    """Copies of the declared inputs, each file with the mark appended."""
    mark = f"\n# ringcheck guest_inputs_test {os.urandom(8).hex()}\n".encode()
    os.makedirs(work)
    out = {}
    with tarfile.open(sysroot_tar) as src, tarfile.open(os.path.join(work, "sysroot.tar"), "w") as dst:
        for m in src.getmembers():
            if m.isfile():
                data = src.extractfile(m).read() + mark
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
            else:
                dst.addfile(m)
    out["sysroot"] = os.path.join(work, "sysroot.tar")
    for key, path in [("busybox", busybox)] + sorted(programs.items()):
        out[key] = os.path.join(work, os.path.basename(path))
        with open(out[key], "wb") as f:
            f.write(read(path) + mark)
        os.chmod(out[key], 0o755)
    return out


def stage_programs(work, targets):
    """A --bin directory as nightly.sh fills it: TARGET_fuzzer and zc_links."""
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    for t in targets:
        shutil.copyfile(ARGS["sqe"], os.path.join(bin_dir, f"{t}_fuzzer"))
    shutil.copyfile(ARGS["zc_links"], os.path.join(bin_dir, "zc_links"))
    for name in os.listdir(bin_dir):
        os.chmod(os.path.join(bin_dir, name), 0o755)
    return bin_dir


def build_base(work, targets, known, sysroot=None, busybox=None):
    """fuzz_vm.py's base archive for these targets; its members."""
    userland = fuzz_vm.Userland(work, busybox or ARGS["busybox"], sysroot or ARGS["sysroot"])
    base = fuzz_vm.build_base(work, stage_programs(work, targets), list(targets), known, userland)
    return newc_archives(read(base))[0]


class BaseArchive(unittest.TestCase, ImageChecks):
    """fuzz_vm.build_base, as fuzz_vm.py calls it for --replay (every target)."""

    known = "zc-cancelled-notif,drain-link-zc"

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.declared = DECLARED
        cls.base = build_base(cls.work, TARGETS, cls.known)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_every_file_is_a_declared_input(self):
        origins = self.check_every_file_is_declared()
        self.assertEqual(origins["bin/busybox"], "@guest_userland//:busybox")
        self.assertIn("ringcheck/fuzz/bin/zc_links", origins)

    def test_links_are_the_sysroots(self):
        self.check_links_are_the_sysroots()

    def test_what_a_guest_needs_is_there(self):
        self.check_what_a_guest_needs_is_there(TARGETS)


class NoFallback(unittest.TestCase):
    """fuzz_vm.py takes nothing from this machine when the declared userland lacks it."""

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def refused(self, **kwargs):
        with self.assertRaises(SystemExit) as e:
            build_base(os.path.join(self.work, "w"), ["sqe"], "", **kwargs)
        status, reason = e.exception.code
        self.assertEqual(status, fuzz_vm.EXIT_CANNOT_RUN, reason)
        return reason

    def test_a_library_missing_from_the_sysroot_is_an_error(self):
        lean = os.path.join(self.work, "lean.tar")
        with tarfile.open(ARGS["sysroot"]) as src, tarfile.open(lean, "w") as dst:
            for m in src.getmembers():
                if "libstdc++" not in m.name:
                    dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        reason = self.refused(sysroot=lean)
        self.assertIn("libstdc++.so.6", reason)
        self.assertIn("is not in the guest sysroot", reason)

    def test_a_dynamic_busybox_is_an_error(self):
        self.assertIn("is not statically linked", self.refused(busybox=ARGS["sqe"]))


STUB_BAZEL = """#!/bin/sh
# bazel as nightly.sh's --kernel hand-over calls it: build (noted, nothing
# built), info output_base (where @guest_userland is).
echo "$*" >>"$STUB_LOG"
case $1 in
  build) exit 0 ;;
  info) for a in "$@"; do [ "$a" = output_base ] && echo "$STUB_OUTPUT_BASE" && exit 0; done ;;
esac
echo "stub bazel: unexpected call: $*" >&2
exit 2
"""

STUB_QEMU = """#!/bin/sh
# qemu that keeps the initrd it was given, then ends as a guest that never booted.
while [ $# -gt 0 ]; do
  if [ "$1" = -initrd ]; then
    n=$(ls "$STUB_BOOTED" | wc -l)
    cp "$2" "$STUB_BOOTED/initrd.$n"
  fi
  shift
done
exit 1
"""


class NightlyHandOver(unittest.TestCase, ImageChecks):
    """fuzz/nightly.sh --kernel K (fuzzing) and --replay D --kernel K."""

    @classmethod
    def setUpClass(cls):
        cls.declared = DECLARED
        cls.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        w = lambda *p: os.path.join(cls.work, *p)
        # A checkout as nightly.sh wants it (run from the repository root).
        os.makedirs(w("root"))
        open(w("root", "WORKSPACE"), "w").close()
        for d in ("fuzz", "harness"):
            os.symlink(os.path.join(ROOT, d), w("root", d))
        os.makedirs(w("stubs"))
        os.makedirs(w("output_base", "external", "guest_userland"))
        os.symlink(os.path.abspath(ARGS["busybox"]), w("output_base", "external", "guest_userland", "busybox"))
        os.symlink(os.path.abspath(ARGS["sysroot"]), w("output_base", "external", "guest_userland", "sysroot.tar"))
        for name, text in (("bazel", STUB_BAZEL), ("qemu", STUB_QEMU)):
            with open(w("stubs", name), "w") as f:
                f.write(text)
            os.chmod(w("stubs", name), 0o755)
        with open(w("bzImage"), "wb") as f:
            f.write(b"not a kernel\n")
        # The fuzzers, as nightly.sh would have built them (RINGCHECK_FUZZ_BIN_DIR).
        stage_programs(w("prebuilt"), TARGETS)
        known_file = os.path.join(ROOT, "fuzz", "known-findings")
        with open(known_file) as f:
            cls.known_findings = ",".join(l.strip() for l in f if l.strip() and not l.startswith("#"))
        # A crash directory of the sqe fuzzer to replay.
        os.makedirs(w("crash", "sqe-0123456789"))
        cls.replay_input = b"replay me\n"
        with open(w("crash", "sqe-0123456789", "minimized"), "wb") as f:
            f.write(cls.replay_input)
        cls.runs = {}
        for mode, args in (("fuzz", ["sqe", "--time", "60"]),
                           ("replay", ["--replay", w("crash", "sqe-0123456789")])):
            os.makedirs(w(mode, "booted"))
            env = dict(os.environ, PATH=w("stubs") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                       RINGCHECK_FUZZ_BIN_DIR=w("prebuilt", "bin"), RINGCHECK_QEMU=w("stubs", "qemu"),
                       RINGCHECK_CACHE=w("cache"), STUB_LOG=w(mode, "bazel.log"),
                       STUB_OUTPUT_BASE=w("output_base"), STUB_BOOTED=w(mode, "booted"))
            env.pop("RINGCHECK_VM_APPEND", None)
            run = subprocess.run(["bash", "fuzz/nightly.sh", *args, "--kernel", w("bzImage"), "--out", w(mode, "out")],
                                 cwd=w("root"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = run.stdout.decode(errors="replace")
            print(f"== nightly.sh {mode}:\n{output}", file=sys.stderr)
            with open(w(mode, "bazel.log")) as f:
                calls = [line.split() for line in f]
            booted = [read(w(mode, "booted", n)) for n in sorted(os.listdir(w(mode, "booted")))]
            cls.runs[mode] = {"rc": run.returncode, "output": output, "bazel": calls,
                              "booted": [newc_archives(b) for b in booted]}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_the_guests_were_started(self):
        # The stand-in qemu ends at once: a kernel that does not boot (exit 8).
        for mode, r in self.runs.items():
            self.assertEqual(r["rc"], fuzz_vm.EXIT_NO_BOOT, f"{mode}: {r['output']}")
            self.assertTrue(r["booted"], f"{mode}: qemu was never started")

    def test_asks_bazel_for_the_guest_userland(self):
        for mode, r in self.runs.items():
            builds = [c for c in r["bazel"] if c[0] == "build"]
            self.assertEqual(len(builds), 1, r["bazel"])
            targets = sorted(a for a in builds[0][1:] if not a.startswith("-"))
            self.assertEqual(targets, ["@guest_userland//:busybox", "@guest_userland//:sysroot.tar"])

    def bases(self):
        for mode, r in self.runs.items():
            for archives in r["booted"]:
                self.assertEqual(len(archives), 2, f"{mode}: an initrd is a base and this boot's archive")
                yield mode, archives

    def test_every_file_of_the_base_is_a_declared_input(self):
        for mode, archives in self.bases():
            self.base = archives[0]
            # nightly.sh hands the known findings over for fuzzing; a replay runs without.
            self.known = self.known_findings if mode == "fuzz" else ""
            self.check_every_file_is_declared()
            self.check_links_are_the_sysroots()
            self.check_what_a_guest_needs_is_there(["sqe"] if mode == "fuzz" else TARGETS)

    def test_each_boots_archive_holds_its_plan_seeds_and_replay_input(self):
        for mode, archives in self.bases():
            for name, kind, data in archives[1]:
                if kind != "file":
                    continue
                if name == "ringcheck/fuzz/plan":
                    # Written by fuzz_vm.py: this boot's steps.
                    for line in data.decode().splitlines():
                        self.assertIn(line.split()[0], ("fuzz", "run"), line)
                elif name.startswith("ringcheck/fuzz/corpus/"):
                    self.assertIn(sha256(data), self.declared.seeds, f"{mode}: {name} is not a seed corpus unit")
                elif name == "ringcheck/fuzz/replay/input":
                    self.assertEqual(mode, "replay")
                    self.assertEqual(data, self.replay_input)
                else:
                    self.fail(f"{mode}: {name} in a boot's archive")


DECLARED = None

if __name__ == "__main__":
    argv = sys.argv[1:]
    if len(argv) < 3:
        sys.exit(__doc__)
    programs = {"zc_links" if os.path.basename(p) == "zc_links" else "sqe": p for p in argv[2:]}
    if sorted(programs) != ["sqe", "zc_links"]:
        sys.exit("give the sqe fuzzer (or its stand-in) and zc_links")
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    try:
        ARGS.update(marked(os.path.join(work, "marked"), argv[0], argv[1], programs))
        DECLARED = Declared(ARGS["sysroot"], ARGS["busybox"], [ARGS["sqe"], ARGS["zc_links"]])
        del sys.argv[1:]
        result = unittest.main(exit=False).result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if result.wasSuccessful() else 1)
