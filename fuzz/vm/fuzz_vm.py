#!/usr/bin/env python3
"""fuzz_vm.py: the nightly fuzz job on another kernel, in qemu guests.

    fuzz_vm.py fuzz --kernel K --bin DIR --busybox FILE --sysroot TAR --out DIR [--time S] [TARGET...]
    fuzz_vm.py replay DIR --kernel K --bin DIR --busybox FILE --sysroot TAR [--out DIR]

Called by fuzz/nightly.sh (./ringcheck fuzz ... --kernel K), which builds
the fuzzers and asks Bazel for the guest's userland: --busybox is
@guest_userland//:busybox, --sysroot @guest_userland//:sysroot.tar
(bazel/guest_inputs.bzl); the fuzzers' shared libraries and the dynamic
loader come from that sysroot, found by harness/vm/sysroot.sh, never from
this machine's /usr (fuzz/vm/guest_inputs_test.py checks it). One guest
boot runs the fuzzers in turn (harness/vm/fuzz_init.sh) for their share of
--time; the corpus of each target and kernel is kept on
the host in OUT/corpus/<kernel>/<target> and goes into every boot. A guest
that panics, hangs, logs a kernel problem (harness/kernel_problems.txt) or
becomes tainted is a kernel finding, OUT/crashes/<id>/, with the console
excerpt and the last inputs the guest wrote to the ivshmem device before
running them (fuzz/vm/shm.py); then the guest is booted again and the job
goes on until --time is spent. Findings are deduplicated by the problem line
and the first frames of the call trace, without addresses.

Oracle crashes inside the guest are replayed alone in one more boot at the
end; those that do not reproduce are listed apart and do not make the exit
status 1.

replay: boots the kernel and runs a finding alone: a kernel finding's last
inputs (oldest first), a nightly crash directory's minimized input, or a
standalone program (DIR/finding.json names it; fuzz/sqe/findings/*). Says
whether it reproduces and records it in DIR/reproduced.json.
"""

import argparse
import datetime
import errno
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "harness", "vm"))
sys.path.insert(0, HERE)
import boot as vmboot  # noqa: E402  (harness/vm/boot.py: Stream, console excerpts, problem lines)
import shm  # noqa: E402

# Exit status. 5 and 7 as ./ringcheck vm; the others are this job's own.
EXIT_OK, EXIT_FINDING, EXIT_CANNOT_RUN, EXIT_NO_QEMU, EXIT_NO_KERNEL = 0, 1, 2, 5, 7
EXIT_NO_BOOT, EXIT_DIED_EARLY, EXIT_DISK_FULL, EXIT_TIME_SHORT, EXIT_USAGE = 8, 9, 10, 11, 64
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}

BOOT_ESTIMATE_S = 45      # from qemu's start to the first input, TCG, here
MIN_SHARE_S = 5           # a target with less left is done
SPLAT_SETTLE_S = 5        # after a problem line, for the rest of the splat
MIN_FREE_BYTES = 64 << 20
FINDINGS = ("zc_links",)  # standalone finding programs the guest carries


class Interrupted(Exception):
    pass


class DiskFull(Exception):
    pass


def say(text):
    print(f"ringcheck fuzz: {text}", file=sys.stderr, flush=True)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def guard_disk(fn):
    """Runs fn(); a full disk becomes DiskFull."""
    try:
        return fn()
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(str(e)) from None
        raise


# --- the kernel -------------------------------------------------------------

def resolve_kernel(spec, cache):
    """debian:X or IMAGE[:MODULES]: image, label, release, source."""
    if spec.startswith("debian:"):
        series = spec[len("debian:"):]
        if series not in ("5.10", "6.1", "6.12", "7.2"):
            raise SystemExit((EXIT_USAGE, f"unknown Debian kernel '{spec}' (known: debian:5.10, debian:6.1, debian:6.12, debian:7.2)"))
        r = subprocess.run([os.path.join(ROOT, "harness", "vm", "kernel_fetch.sh"), series, cache],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SystemExit((EXIT_NO_KERNEL, f"the kernel {spec} could not be fetched: {r.stderr.strip()[-300:]}"))
        d = r.stdout.strip().splitlines()[-1]
        with open(os.path.join(d, "kernel.json")) as f:
            meta = json.load(f)
        return {"image": os.path.join(d, "vmlinuz"), "label": "debian-" + series, "release": meta["release"],
                "source": meta["source"], "packages": meta.get("packages", [])}
    image = spec.split(":", 1)[0]
    if not os.path.isfile(image):
        raise SystemExit((EXIT_NO_KERNEL, f"the kernel image {image} does not exist"))
    return {"image": os.path.abspath(image), "label": os.path.basename(image), "release": "unknown",
            "source": "image " + os.path.realpath(image), "packages": []}


# --- the guest's initramfs ---------------------------------------------------
#
# Nothing comes from this machine's /usr: busybox is @guest_userland//:busybox
# and every shared library and the dynamic loader a program needs come from
# @guest_userland//:sysroot.tar (Debian packages, bazel/guest_inputs.bzl),
# found by harness/vm/sysroot.sh (the program's interpreter and NEEDED
# entries, read with readelf, looked up in the sysroot), as in the images of
# ./ringcheck vm (harness/vm/initramfs.sh). nightly.sh asks Bazel for both.

SYSROOT_SH = os.path.join(ROOT, "harness", "vm", "sysroot.sh")


class Userland:
    """The declared guest userland: busybox and the unpacked sysroot."""

    def __init__(self, work, busybox, sysroot_tar):
        if not os.path.isfile(busybox):
            raise SystemExit((EXIT_CANNOT_RUN, f"the guest's busybox {busybox} does not exist (@guest_userland//:busybox)"))
        if not os.path.isfile(sysroot_tar):
            raise SystemExit((EXIT_CANNOT_RUN, f"the guest sysroot {sysroot_tar} does not exist (@guest_userland//:sysroot.tar)"))
        if _sysroot_sh("is_dynamic", "", busybox).returncode == 0:
            raise SystemExit((EXIT_CANNOT_RUN, f"{busybox} is not statically linked"))
        self.busybox = busybox
        self.sysroot = os.path.join(work, "sysroot")
        os.makedirs(self.sysroot)
        r = subprocess.run(["tar", "-C", self.sysroot, "-xf", sysroot_tar], stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SystemExit((EXIT_CANNOT_RUN, f"cannot unpack the guest sysroot {sysroot_tar}: {r.stderr.strip()[-200:]}"))

    def closure(self, program):
        """The paths in the image of the loader and every library program needs."""
        r = _sysroot_sh("sysroot_closure", self.sysroot, program)
        if r.returncode != 0:
            raise SystemExit((EXIT_CANNOT_RUN, f"cannot take the libraries of {os.path.basename(program)} from the "
                              f"guest sysroot: {r.stderr.strip()[-300:]} (add its Debian package to "
                              f"bazel/guest_inputs.bzl's list in WORKSPACE)"))
        return [l for l in r.stdout.splitlines() if l]

    def copy(self, stage, path):
        """path of the sysroot at the same place in stage, with its chain of
        symlinks (libstdc++.so.6 -> libstdc++.so.6.0.30), as initramfs.sh does."""
        n = 0
        while os.path.islink(self.sysroot + path) and n < 40:
            target = os.readlink(self.sysroot + path)
            link = stage + path
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(target, link)
            path = target if target.startswith("/") else os.path.normpath(os.path.join(os.path.dirname(path), target))
            n += 1
        if not os.path.isfile(self.sysroot + path):
            raise SystemExit((EXIT_CANNOT_RUN, f"{path} is not in the guest sysroot"))
        dest = stage + path
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not os.path.exists(dest):
            shutil.copyfile(self.sysroot + path, dest)
            os.chmod(dest, 0o755)


def _sysroot_sh(function, sysroot, *args):
    """Runs a function of harness/vm/sysroot.sh with $sysroot set."""
    return subprocess.run(["bash", "-c", 'source "$0" && sysroot=$1 && shift && "$@"', SYSROOT_SH, sysroot,
                           function, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _copy_with_libs(stage, userland, src, dest):
    """src at dest in stage and, if it is dynamically linked, its libraries
    and loader from the sysroot at their own paths."""
    if not os.path.isfile(src):
        raise SystemExit((EXIT_CANNOT_RUN, f"{src} does not exist (nightly.sh builds it)"))
    path = os.path.join(stage, dest.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copyfile(src, path)
    os.chmod(path, 0o755)
    for lib in userland.closure(src):
        userland.copy(stage, lib)


def pack(stage, out):
    files = subprocess.run(f"cd {stage!r} && find . -mindepth 1 | LC_ALL=C sort", shell=True,
                           stdout=subprocess.PIPE, check=True).stdout
    with open(out + ".tmp", "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=stage, input=files,
                       stdout=f, check=True)
    os.replace(out + ".tmp", out)


def build_base(work, bin_dir, targets, known, userland):
    """busybox, /init and the fuzzers with their libraries: one archive for every boot."""
    stage = os.path.join(work, "base")
    os.makedirs(os.path.join(stage, "bin"))
    shutil.copyfile(userland.busybox, os.path.join(stage, "bin", "busybox"))
    os.chmod(os.path.join(stage, "bin", "busybox"), 0o755)
    shutil.copyfile(os.path.join(ROOT, "harness", "vm", "fuzz_init.sh"), os.path.join(stage, "init"))
    os.chmod(os.path.join(stage, "init"), 0o755)
    fz = os.path.join(stage, "ringcheck", "fuzz")
    os.makedirs(fz)
    for t in targets:
        _copy_with_libs(stage, userland, os.path.join(bin_dir, f"{t}_fuzzer"), f"ringcheck/fuzz/bin/{t}_fuzzer")
        d = os.path.join(ROOT, "fuzz", t, f"{t}.dict")
        if os.path.exists(d):
            shutil.copyfile(d, os.path.join(fz, f"{t}.dict"))
    for p in FINDINGS:
        if os.path.exists(os.path.join(bin_dir, p)):
            _copy_with_libs(stage, userland, os.path.join(bin_dir, p), f"ringcheck/fuzz/bin/{p}")
    with open(os.path.join(fz, "known"), "w") as f:
        f.write(known + "\n")
    out = os.path.join(work, "base.cpio")
    pack(stage, out)
    return out


def build_boot_archive(work, n, plan, corpora, files=None):
    """This boot's plan, the corpora (target -> host dir) and other files (guest path -> host path)."""
    stage = os.path.join(work, f"boot{n}.stage")
    fz = os.path.join(stage, "ringcheck", "fuzz")
    os.makedirs(fz)
    with open(os.path.join(fz, "plan"), "w") as f:
        f.write("".join(" ".join(str(w) for w in step) + "\n" for step in plan))
    for t, d in corpora.items():
        dest = os.path.join(fz, "corpus", t)
        os.makedirs(dest)
        if os.path.isdir(d):
            for name in os.listdir(d):
                src = os.path.join(d, name)
                if os.path.isfile(src) and not name.startswith("."):
                    shutil.copyfile(src, os.path.join(dest, name))
    for guest_path, src in (files or {}).items():
        dest = os.path.join(stage, guest_path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(src, dest)
    out = os.path.join(work, f"boot{n}.cpio")
    pack(stage, out)
    shutil.rmtree(stage)
    return out


# --- kernel problems: the key a finding is deduplicated by --------------------

TS = re.compile(r"^\[\s*[0-9.]+\]\s*")
# Frames every splat of a kind shares: the reporting machinery, not the bug.
GENERIC_FRAMES = re.compile(r"^(dump_stack\w*|show_stack|panic|__warn|warn_slowpath\w*|report_bug|handle_bug|"
                            r"exc_\w+|asm_exc_\w+|die|oops_\w+|__die\w*|do_trap|do_error_trap|print_report|"
                            r"kasan_report\w*|__asan_\w+|check_\w*_lock\w*|__lock_acquire|lock_acquire|"
                            r"lockdep_\w+|print_\w+_bug|ubsan_\w+|__ubsan_\w+)(\.\w+)?$")
FRAME = re.compile(r"^\s*(?:\[<[0-9a-f]+>\]\s*)?([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")


def problem_key(lines):
    """(title, frames) of the first kernel problem in console lines."""
    text = [TS.sub("", l.rstrip()) for l in lines]
    first = next((i for i, l in enumerate(text) if vmboot.PANIC.search(l) and not l.startswith("Call Trace")), None)
    if first is None:
        return "", []
    title = text[first]
    title = re.sub(r"CPU: \d+ PID: \d+ ", "", title)
    title = re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "", title)
    title = re.sub(r"(, address| at addr|: 0000|ffff)[^ ]*.*$", "", title)
    title = re.sub(r"0x[0-9a-f]+", "", title).strip()
    frames = []
    in_trace = False
    for l in text[first:]:
        if l.startswith("Call Trace:"):
            in_trace = True
            continue
        if not in_trace:
            continue
        s = l.strip()
        if s.startswith("?") or s.startswith("<"):
            continue
        m = FRAME.match(s)
        if m and GENERIC_FRAMES.match(m.group(1)):
            continue
        if m:
            frames.append(re.sub(r"\.(cold|isra|constprop|part|llvm)\b.*$", "", m.group(1)))
        elif frames and not s.startswith(("RIP", "Code", "RSP", "R", "---")):
            break
        if len(frames) == 4:
            break
    return title, frames


# --- one boot ------------------------------------------------------------------

class Boot:
    """Runs one guest and watches it: marks, console, the ivshmem counters."""

    def __init__(self, ctx, n, plan, corpora, files=None, append=""):
        self.ctx, self.n, self.plan = ctx, n, plan
        self.dir = os.path.join(ctx.work, f"boot{n}")
        os.makedirs(self.dir)
        self.shm = os.path.join(self.dir, "shm")
        shm.create(self.shm)
        self.initrd = os.path.join(self.dir, "initrd")
        extra = build_boot_archive(ctx.work, n, plan, corpora, files)
        with open(self.initrd, "wb") as out:
            for part in (ctx.base, extra):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        os.remove(extra)
        self.console = os.path.join(self.dir, "console.log")
        self.data = os.path.join(self.dir, "data.log")
        self.append = append
        self.status = None           # ok, panic, problem, taint, hang, died, noboot, timeup, interrupted
        self.booted_at = None
        self.release = None
        self.marks = []
        self.fuzz_time = {}          # target -> seconds fuzzed in this boot
        self.finished = set()        # targets whose step ended
        self.current = None          # (target, since)
        self.kcov = None
        self.started_inputs = 0

    def command(self):
        c = self.ctx
        append = ["console=ttyS0", "panic=-1", "loglevel=4", "oops=panic" if c.args.oops_panic else "",
                  self.append, c.args.append]
        cmd = [c.args.qemu, "-accel", c.args.accel, "-m", str(c.args.memory), "-smp", "2",
               "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
               "-kernel", c.kernel["image"], "-initrd", self.initrd, "-append", " ".join(a for a in append if a),
               "-serial", f"file:{self.console}", "-serial", f"file:{self.data}",
               "-object", f"memory-backend-file,id=rcshm,share=on,mem-path={self.shm},size={shm.SIZE}",
               "-device", "ivshmem-plain,memdev=rcshm"]
        # The fuzzers are built for this machine's CPU: libFuzzer's runtime
        # dies of SIGILL on qemu's default CPU model (qemu64).
        cmd[3:3] = ["-cpu", "host" if c.args.accel == "kvm" else "max"]
        return cmd

    def run(self, end_by):
        """Until the guest ends, breaks, hangs, or end_by (monotonic) passes."""
        c = self.ctx
        start = self.start = time.monotonic()
        try:
            qemu = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        except OSError as e:
            raise SystemExit((EXIT_NO_QEMU, f"cannot start {c.args.qemu}: {e.strerror}"))
        stream = vmboot.Stream(self.data)
        self.stream = stream
        last_progress = start
        problem_at = None
        console_pos = 0
        try:
            while True:
                exited = qemu.poll() is not None
                now = time.monotonic()
                for m in stream.poll():
                    self.marks.append(m)
                    if m[0] not in ("ALIVE", "TAINT"):  # the shell says these even when the fuzzer is stuck
                        last_progress = now
                    self._mark(m, now)
                started, _ = shm.counters(self.shm)
                if started != self.started_inputs:
                    self.started_inputs = started
                    last_progress = now
                try:
                    with open(self.console, "rb") as f:
                        f.seek(console_pos)
                        new = f.read()
                except FileNotFoundError:
                    new = b""
                if new:
                    cut = new.rfind(b"\n") + 1
                    console_pos += cut
                    for line in new[:cut].decode("utf-8", "replace").splitlines():
                        if problem_at is None and vmboot.PANIC.search(line):
                            problem_at = now
                            say(f"{c.kernel['label']}: the guest kernel logged: {TS.sub('', line.strip())[:160]}")
                if exited:
                    break
                if c.signalled:
                    self.status = "interrupted"
                    break
                if problem_at is not None and now - problem_at > SPLAT_SETTLE_S:
                    self.status = "problem"
                    break
                if self.taint_changed:
                    if problem_at is None:
                        problem_at = now  # the splat that tainted it may still be coming
                if self.booted_at is None and now - start > c.args.boot_timeout:
                    self.status = "noboot"
                    break
                if self.booted_at is not None and now - last_progress > c.args.hang:
                    self.status = "hang"
                    break
                if now > end_by:
                    self.status = "timeup"
                    break
                try:
                    qemu.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if qemu.poll() is None:
                qemu.kill()
            self.qemu_out = qemu.communicate()[0].decode("utf-8", "replace").strip()
            self.qemu_rc = qemu.returncode
        for m in stream.poll():
            self.marks.append(m)
            self._mark(m, time.monotonic())
        end = time.monotonic()
        if self.current:
            t, since = self.current
            self.fuzz_time[t] = self.fuzz_time.get(t, 0) + end - since
        full = self.console_lines()
        if self.status is None or self.status == "problem":
            if any("Kernel panic" in l for l in full):
                self.status = "panic"
            elif self.status is None and stream.has("END"):
                self.status = "ok"
            elif self.status is None and self.booted_at is None:
                self.status = "noboot"
            elif self.status is None:
                self.status = "died"
        if self.status == "ok" and self.taint_changed:
            self.status = "taint"
        self.wall = end - start
        return self.status

    taint_changed = False

    def _mark(self, m, now):
        ev = m[0]
        if ev == "BOOTED":
            self.booted_at = now
            self.release = m[2] if len(m) > 2 else None
            say(f"{self.ctx.kernel['label']}: boot {self.n}: Linux {self.release} up")
        elif ev == "FUZZ" and len(m) > 2:
            self.current = (m[1], now)
            say(f"{self.ctx.kernel['label']}: fuzzing {m[1]} for {m[2]} s")
        elif ev == "FUZZED" and self.current:
            t, since = self.current
            self.fuzz_time[t] = self.fuzz_time.get(t, 0) + now - since
            self.finished.add(t)
            self.current = None
        elif ev == "TAINT" and len(m) > 2 and m[1] != m[2]:
            self.taint_changed = True
            self.taint = (m[1], m[2])
        elif ev == "GIVEUP" and len(m) > 1:
            self.ctx.gave_up[m[1]] = " ".join(m[2:])
            say(f"{self.ctx.kernel['label']}: {m[1]} cannot run on this kernel: {' '.join(m[2:])}")
        elif ev == "KCOV":
            self.kcov = m[1:2] == ["yes"]
        elif ev == "PROC" and len(m) > 3 and m[3] != "0":
            say(f"{self.ctx.kernel['label']}: {m[1]} fuzzer process {m[2]} ended with status {m[3]}; restarted")

    def console_lines(self):
        try:
            with open(self.console, encoding="utf-8", errors="replace") as f:
                return [l.rstrip() for l in f.read().replace("\r", "").split("\n") if l.strip()]
        except OSError:
            return []


# --- the job -------------------------------------------------------------------

class Ctx:
    pass


def index_lookup(index, key):
    try:
        with open(index, encoding="utf-8") as f:
            for line in f:
                cells = line.rstrip("\n").split("\t")
                if len(cells) >= 3 and cells[2] == key:
                    return cells[0], cells[1]
    except FileNotFoundError:
        pass
    return None, None


def record_kernel_finding(ctx, b):
    """A crash entry for a boot that broke: console excerpt, last inputs, kernel."""
    lines = b.console_lines()
    excerpt = vmboot.console_excerpt(b.console, 60)
    title, frames = problem_key(lines)
    if b.status == "hang":
        title = title or f"hang: no input and no progress mark for {ctx.args.hang} s"
    elif b.status == "died" and not title:
        title = f"the guest died (qemu exit {b.qemu_rc})"
    elif b.status == "taint" and not title:
        title = f"taint {b.taint[0]} -> {b.taint[1]}"
    kind = b.status
    key = f"kernel {kind}: {title} | {' '.join(frames)}"
    index = os.path.join(ctx.out, "crashes", "index.tsv")
    cid, first = index_lookup(index, key)
    new = cid is None
    if new:
        cid = "kernel-" + hashlib.sha1(key.encode()).hexdigest()[:10]
        first = ctx.started
        guard_disk(lambda: _append(index, f"{cid}\t{first}\t{key}\n"))
    d = os.path.join(ctx.out, "crashes", cid)
    inputs = shm.last_inputs(b.shm)
    _, finished = shm.counters(b.shm)

    def write():
        os.makedirs(os.path.join(d, "last-inputs"), exist_ok=True)
        seen = {}
        if os.path.exists(os.path.join(d, "finding.json")):
            with open(os.path.join(d, "finding.json")) as f:
                seen = json.load(f)
        tag = f"{ctx.kernel['label']}-boot{b.n}"
        shutil.copyfile(b.console, os.path.join(d, f"console-{tag}.log")) if os.path.exists(b.console) else None
        listed = []
        for i, inp in enumerate(inputs):
            name = f"{tag}-{i:02d}-{inp['target']}"
            with open(os.path.join(d, "last-inputs", name), "wb") as f:
                f.write(inp["data"])
            listed.append({"file": f"last-inputs/{name}", "target": inp["target"], "seq": inp["seq"],
                           "finished": inp["seq"] <= finished, "truncated": inp["truncated"]})
        occurrences = seen.get("occurrences", [])
        occurrences.append({"kernel": ctx.kernel["label"], "release": b.release or ctx.kernel["release"],
                            "package": ctx.kernel["source"], "when": now_utc(), "boot": b.n,
                            "console": f"console-{tag}.log", "last_inputs": listed})
        finding = {"id": cid, "kind": kind, "title": title, "frames": frames, "key": key, "first_seen": first,
                   "console_excerpt": excerpt, "occurrences": occurrences,
                   "reproduced": seen.get("reproduced", {})}
        with open(os.path.join(d, "finding.json.tmp"), "w") as f:
            json.dump(finding, f, indent=1)
        os.replace(os.path.join(d, "finding.json.tmp"), os.path.join(d, "finding.json"))
        with open(os.path.join(d, "console.txt"), "w") as f:
            f.write("\n".join(excerpt) + "\n")
        return finding

    finding = guard_disk(write)
    ctx.kernel_findings.append({"id": cid, "kind": kind, "title": title, "frames": frames, "new": new,
                                "dir": d, "last_inputs": len(inputs), "boot": b.n})
    say(f"{ctx.kernel['label']}: {'new ' if new else ''}kernel finding {cid}: {kind}: {title}"
        f"{' (' + ' '.join(frames) + ')' if frames else ''}; {len(inputs)} last inputs kept")
    return finding


def _append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def collect_files(ctx, b):
    """Corpus tars into the kept corpus, artifacts, logs and stats."""
    for name, data in sorted(b.stream.files.items()):
        parts = name.split("/")
        if name.endswith(".corrupt"):
            continue
        if parts[0] == "corpus" and len(parts) == 3 and parts[1] in ctx.targets:
            dest = ctx.corpus[parts[1]]

            def extract():
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    for m in tar.getmembers():
                        base = os.path.basename(m.name)
                        if not m.isfile() or not base or base.startswith("."):
                            continue
                        tmp = os.path.join(dest, "." + base + ".tmp")
                        with open(tmp, "wb") as f:
                            f.write(tar.extractfile(m).read())
                        os.replace(tmp, os.path.join(dest, base))
            try:
                guard_disk(extract)
            except tarfile.TarError:
                pass
        elif parts[0] in ("artifacts", "logs", "stats", "run") or name == "kernel.log":
            path = os.path.normpath(os.path.join(ctx.guest_dir, f"boot{b.n}", name))
            if not path.startswith(ctx.guest_dir + os.sep):
                continue

            def save():
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
            guard_disk(save)


ORACLE = re.compile(r"^(ORACLE [^|]*|HARNESS: .*|==\d+==ERROR: .*|SUMMARY: .*|.*runtime error: .*)")


def oracle_key(text):
    for line in text.splitlines():
        m = ORACLE.match(line.strip())
        if m:
            return re.sub(r"0x[0-9a-f]+", "", re.sub(r"^==\d+==", "", m.group(1))).strip()
    return None


def guest_oracle_crashes(ctx):
    """(target, artifact path, key) of every oracle crash the guests sent."""
    out = []
    for bdir in sorted(os.listdir(ctx.guest_dir)):
        art_root = os.path.join(ctx.guest_dir, bdir, "artifacts")
        if not os.path.isdir(art_root):
            continue
        for t in sorted(os.listdir(art_root)):
            for a in sorted(os.listdir(os.path.join(art_root, t))):
                if "-slow-unit-" in a:
                    continue
                n = a.split("-", 1)[0]
                log = os.path.join(ctx.guest_dir, bdir, "logs", t, f"fuzz.{n}.log")
                text = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
                key = oracle_key(text) or "unknown crash"
                if a.split("-", 1)[1].startswith("timeout-"):
                    key = "libFuzzer timeout (-timeout=30)"
                out.append((t, os.path.join(art_root, t, a), key))
    return out


def target_stats(ctx, t):
    runs, features, units, fds_end = 0, 0, 0, ""
    for bdir in sorted(os.listdir(ctx.guest_dir)):
        logs = os.path.join(ctx.guest_dir, bdir, "logs", t)
        if os.path.isdir(logs):
            for name in os.listdir(logs):
                if not name.startswith("fuzz."):
                    continue
                last = 0
                for line in open(os.path.join(logs, name), encoding="utf-8", errors="replace"):
                    m = re.match(r"^#(\d+)", line) or re.match(r"^Done (\d+) runs", line) or \
                        re.match(r"^stat::number_of_executed_units: (\d+)", line)
                    if m:
                        last = max(last, int(m.group(1)))
                    m = re.search(r" ft: (\d+)", line)
                    if m:
                        features = max(features, int(m.group(1)))
                runs += last
        stats = os.path.join(ctx.guest_dir, bdir, "stats", t)
        if os.path.exists(stats):
            per_pid = {}
            for line in open(stats, encoding="utf-8", errors="replace"):
                w = line.split()
                for x in w[3:]:
                    if x.startswith("units="):
                        per_pid[w[1]] = int(x[6:])
                # The resource log: open fds and rings of the last process.
                fds_end = " ".join(x for x in w[3:] if x.startswith(("fds=", "rings=")))
            units += sum(per_pid.values())
    secs = ctx.spent.get(t, 0)
    corpus = len([n for n in os.listdir(ctx.corpus[t]) if not n.startswith(".")])
    extra = {"could_not_run": ctx.gave_up[t]} if t in ctx.gave_up else {}
    return {**extra, "name": t, "runs": runs, "execs_per_s": int(runs / secs) if secs else 0,
            "sqes_per_s": int(units / secs) if secs and t == "sqe" else 0, "features": features,
            "corpus_size": corpus, "duration_s": int(secs), "fds_at_1m": "", "fds_at_end": fds_end,
            "fd_growth_within_a_process": 0}


def replay_boot(ctx, steps, files, label):
    """One boot that runs `steps` (run NAME CMD...) alone; returns the Boot."""
    ctx.boots += 1
    b = Boot(ctx, ctx.boots, steps, {}, files)
    b.run(time.monotonic() + ctx.args.boot_timeout + 120 * len(steps) + 60)
    collect_files(ctx, b)
    return b


def run_fuzz(ctx):
    args = ctx.args
    share = args.time / len(ctx.targets)
    left = {t: share for t in ctx.targets}
    job_end = ctx.t0 + args.time
    first_input_seen = False
    while not ctx.signalled:
        now = time.monotonic()
        plan = [("fuzz", t, int(left[t])) for t in ctx.targets if left[t] >= MIN_SHARE_S]
        if not plan:
            break
        remaining = job_end - now
        if remaining < MIN_SHARE_S + (0 if ctx.boots == 0 else 10):
            break
        # Fit the plan into what is left of --time, booting included.
        budget = max(MIN_SHARE_S, remaining - (ctx.boot_s or BOOT_ESTIMATE_S))
        fitted, total = [], 0
        for step in plan:
            secs = min(step[2], int(budget - total))
            if secs >= MIN_SHARE_S:
                fitted.append((step[0], step[1], secs))
                total += secs
        if not fitted:
            break
        ctx.boots += 1
        append = f"ringcheck.mode=panic@{args.inject_panic}" if args.inject_panic is not None and ctx.boots == 1 else ""
        if args.die_early and ctx.boots == 1:
            append = "ringcheck.mode=panic"
        b = Boot(ctx, ctx.boots, fitted, ctx.corpus, append=append)
        status = b.run(job_end + 120)
        ctx.boot_list.append(b)
        if b.booted_at is not None and ctx.boot_s is None:
            ctx.boot_s = b.booted_at - b.start + 15
        if b.kcov is not None:
            ctx.kcov = b.kcov
        collect_files(ctx, b)
        for t, secs in b.fuzz_time.items():
            left[t] -= secs
            ctx.spent[t] = ctx.spent.get(t, 0) + secs
        for t in b.finished:
            left[t] = 0
        first_input_seen |= b.started_inputs > 0
        if b.release:
            ctx.release = b.release
        if status == "interrupted":
            break
        if status == "noboot":
            if time.monotonic() >= job_end:
                raise SystemExit((EXIT_TIME_SHORT, f"--time ({args.time} s) ran out before {ctx.kernel['label']} booted; give it at least {BOOT_ESTIMATE_S + 60} s"))
            if ctx.boots == 1 and not ctx.retried_boot:
                ctx.retried_boot = True  # TCG now and then loses a boot (see boot.py); once more
                say(f"{ctx.kernel['label']}: the guest did not reach its userspace; booting it once more")
                continue
            excerpt = [l for l in b.console_lines()][-3:]
            raise SystemExit((EXIT_NO_BOOT, f"the kernel {ctx.kernel['label']} does not boot to userspace under qemu"
                              f" ({'; '.join(excerpt) or b.qemu_out[-200:] or 'no console output'})"))
        if status in ("panic", "problem", "hang", "died", "taint"):
            if not first_input_seen and ctx.boots <= 2:
                finding = record_kernel_finding(ctx, b)
                raise SystemExit((EXIT_DIED_EARLY, f"the guest died before its first input ({status}: {finding['title']});"
                                  f" console in {finding['id']}"))
            record_kernel_finding(ctx, b)
            say(f"{ctx.kernel['label']}: booting again to go on ({int(job_end - time.monotonic())} s of --time left)")
            continue
        if status == "timeup":
            break


def check_oracle_crashes(ctx):
    """Replays each distinct guest oracle crash alone in one boot."""
    crashes = guest_oracle_crashes(ctx)
    distinct = {}
    for t, path, key in crashes:
        distinct.setdefault((t, key), path)
    if not distinct:
        return
    items = list(distinct.items())[:10]
    steps, files = [], {}
    for i, ((t, key), path) in enumerate(items):
        files[f"/ringcheck/fuzz/replay/r{i}"] = path
        steps.append(("run", f"r{i}", f"/ringcheck/fuzz/bin/{t}_fuzzer", "-runs=1", f"/ringcheck/fuzz/replay/r{i}"))
    say(f"{ctx.kernel['label']}: replaying {len(items)} distinct oracle crash(es) alone in one more boot")
    b = replay_boot(ctx, steps, files, "oracle replays")
    ran = {m[1]: m[2] for m in b.marks if m[0] == "RAN" and len(m) > 2}
    for i, ((t, key), path) in enumerate(items):
        out_path = os.path.join(ctx.guest_dir, f"boot{b.n}", "run", f"r{i}.out")
        text = open(out_path, encoding="utf-8", errors="replace").read() if os.path.exists(out_path) else ""
        rc = ran.get(f"r{i}")
        again = oracle_key(text)
        reproduces = rc not in (None, "0") and again == key
        index = os.path.join(ctx.out, "crashes", "index.tsv")
        full_key = f"{key} | (guest {ctx.kernel['label']})"
        cid, first = index_lookup(index, full_key)
        new = cid is None
        if new and reproduces:
            cid = f"{t}-" + hashlib.sha1(full_key.encode()).hexdigest()[:10]
            first = ctx.started
            guard_disk(lambda: _append(index, f"{cid}\t{first}\t{full_key}\n"))
        entry = {"target": t, "id": cid or "-", "oracle": key, "first_seen": first or ctx.started,
                 "input": path, "reproducer": f"./ringcheck fuzz --replay DIR --kernel {ctx.args.kernel}",
                 "new": new, "replay": f"exit {rc}, {again or 'no oracle line'}"}
        if reproduces:
            d = os.path.join(ctx.out, "crashes", cid)

            def keep():
                os.makedirs(d, exist_ok=True)
                shutil.copyfile(path, os.path.join(d, "minimized"))
                shutil.copyfile(path, os.path.join(d, "input"))
                with open(os.path.join(d, "log"), "w") as f:
                    f.write(text)
            guard_disk(keep)
            entry["input"] = os.path.join(d, "minimized")
            ctx.oracle_crashes.append(entry)
        else:
            ctx.unreproduced.append(entry)
    if b.status in ("panic", "problem", "hang", "died", "taint"):
        record_kernel_finding(ctx, b)


def write_report(ctx, exit_status, reason):
    targets = [target_stats(ctx, t) for t in ctx.targets]
    for t in targets:
        t["crashes"] = [{k: c[k] for k in ("id", "oracle", "first_seen", "input", "reproducer")}
                        for c in ctx.oracle_crashes if c["target"] == t["name"]]
    notes = []
    if ctx.kcov is False:
        notes.append("KCOV: this kernel has no CONFIG_KCOV (Debian's kernels lack it), so the fuzzers ran with "
                     "their behaviour counters only; fuzz/README.md says how to build a kernel with it.")
    elif ctx.kcov:
        notes.append("KCOV: present in this kernel (debugfs kcov); the fuzzers do not read it yet.")
    kfs = []
    for k in ctx.kernel_findings:
        fj = os.path.join(k["dir"], "finding.json")
        reproduced = {}
        if os.path.exists(fj):
            with open(fj) as f:
                reproduced = json.load(f).get("reproduced", {})
        kfs.append({"id": k["id"], "kind": k["kind"], "title": k["title"], "frames": k["frames"], "new": k["new"],
                    "dir": k["dir"], "boot": k["boot"], "last_inputs": k["last_inputs"],
                    "reproduces_on": reproduced})
    boots = [{"boot": b.n, "status": b.status, "wall_s": round(b.wall, 1),
              "until_userspace_s": round(b.booted_at - b.start, 1) if b.booted_at else None,
              "inputs_started": b.started_inputs, "fuzzed": {t: int(s) for t, s in b.fuzz_time.items()}}
             for b in ctx.boot_list]
    report = {"schema": "ringcheck.fuzz/1", "started": ctx.started, "duration_s": int(time.monotonic() - ctx.t0),
              "kernel": ctx.release or ctx.kernel["release"], "kernel_source": ctx.kernel["source"],
              "kernel_label": ctx.kernel["label"], "known_findings_stepped_around": ctx.known,
              "guest": {"accel": ctx.args.accel, "boots": boots, "memory_mb": ctx.args.memory, "kcov": ctx.kcov},
              "targets": targets, "kernel_findings": kfs, "unreproduced": ctx.unreproduced,
              "notes": notes, "interrupted": ctx.signalled is not None, "exit_status": exit_status,
              "exit_reason": reason}
    os.makedirs(ctx.out, exist_ok=True)
    md = render_md(report)

    def write():
        for name, text in (("fuzz-report.json", json.dumps(report, indent=1) + "\n"), ("fuzz-report.md", md)):
            tmp = os.path.join(ctx.out, name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, os.path.join(ctx.out, name))
    try:
        guard_disk(write)
    except DiskFull:
        say(f"the disk of {ctx.out} is full: the report could not be written")
    if ctx.args.results:
        # Beside the kernel's conformance results (./ringcheck vm --out DIR),
        # where ./ringcheck report looks for it (reports/results.py).
        dest = os.path.join(ctx.args.results, report["kernel"])
        if os.path.isdir(dest):
            os.makedirs(os.path.join(dest, "fuzz"), exist_ok=True)
            shutil.copyfile(os.path.join(ctx.out, "fuzz-report.json"), os.path.join(dest, "fuzz", "fuzz-report.json"))
            say(f"fuzz report copied to {dest}/fuzz/ for ./ringcheck report")
        else:
            say(f"no conformance results for {report['kernel']} in {ctx.args.results} (./ringcheck vm "
                f"{ctx.args.kernel} --out {ctx.args.results}); the fuzz report stays in {ctx.out}")
    return report


def render_md(r):
    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")
    md = ["# ringcheck fuzz report (guest)", "",
          f"Started {r['started']} on kernel {r['kernel']} ({r['kernel_source']}) under qemu "
          f"({r['guest']['accel']}, {len(r['guest']['boots'])} boot(s)), {r['duration_s']} s in all."
          + (" Interrupted." if r["interrupted"] else ""), "",
          f"Known findings stepped around (fuzz/known-findings): {r['known_findings_stepped_around'] or 'none'}.", ""]
    md += [f"- {n}" for n in r["notes"]]
    md += ["", "| target | runs | execs/s | SQEs/s | features | corpus | s fuzzed | crashes |", "|---|---|---|---|---|---|---|---|"]
    for t in r["targets"]:
        md.append(f"| {t['name']} | {t['runs']} | {t['execs_per_s']} | {t['sqes_per_s'] or 'n/a'} | {t['features']} | "
                  f"{t['corpus_size']} | {t['duration_s']} | {len(t['crashes'])} |")
    md += [f"- {t['name']} could not run on this kernel (three processes in a row died within 10 s): "
           f"{cell(t['could_not_run'])}" for t in r["targets"] if t.get("could_not_run")]
    md += ["", "## Kernel findings", ""]
    if r["kernel_findings"]:
        md += ["| id | new | kind | problem | first frames | last inputs | reproduces on |", "|---|---|---|---|---|---|---|"]
        for k in r["kernel_findings"]:
            rep = ", ".join(f"{kk}: {v.get('verdict')}" for kk, v in k["reproduces_on"].items()) or "not replayed"
            md.append(f"| [{k['id']}]({cell(os.path.relpath(k['dir'], ROOT) if k['dir'].startswith(ROOT) else k['dir'])}/finding.json) | "
                      f"{'yes' if k['new'] else 'no'} | {k['kind']} | {cell(k['title'])} | {cell(' '.join(k['frames']))} | "
                      f"{k['last_inputs']} | {cell(rep)} |")
    else:
        md.append("None.")
    md += ["", "## Oracle crashes (reproduced alone in a guest)", ""]
    crashes = [c for t in r["targets"] for c in t["crashes"]]
    md += [f"- `{cell(c['id'])}`: {cell(c['oracle'])}" for c in crashes] or ["None."]
    md += ["", "## Crashes that did not reproduce alone (not counted)", ""]
    md += [f"- {cell(u['target'])}: {cell(u['oracle'])} (replay: {cell(u['replay'])}; input {cell(u['input'])})"
           for u in r["unreproduced"]] or ["None."]
    md += ["", "## Boots", "", "| boot | ended | wall s | inputs | fuzzed s |", "|---|---|---|---|---|"]
    for b in r["guest"]["boots"]:
        md.append(f"| {b['boot']} | {b['status']} | {b['wall_s']} | {b['inputs_started']} | "
                  f"{cell(', '.join(f'{t} {s}' for t, s in b['fuzzed'].items()))} |")
    md += ["", f"Exit status {r['exit_status']}: {r['exit_reason']}", ""]
    return "\n".join(md)


# --- replay ----------------------------------------------------------------------

def replay(ctx, crash_dir):
    """Runs a finding alone on ctx's kernel: returns (verdict, detail)."""
    crash_dir = os.path.abspath(crash_dir)
    fj = os.path.join(crash_dir, "finding.json")
    finding = json.load(open(fj)) if os.path.exists(fj) else {}
    files, steps, kind = {}, [], None
    if finding.get("program"):
        kind = "program"
        steps.append(("run", "finding", f"/ringcheck/fuzz/bin/{finding['program']}", *finding.get("args", [])))
    elif finding.get("occurrences"):
        kind = "kernel"
        occ = finding["occurrences"][-1]
        for i, inp in enumerate(reversed(occ["last_inputs"])):  # oldest first
            files[f"/ringcheck/fuzz/replay/i{i}"] = os.path.join(crash_dir, inp["file"])
            steps.append(("run", f"i{i}", f"/ringcheck/fuzz/bin/{inp['target']}_fuzzer", "-runs=1",
                          f"/ringcheck/fuzz/replay/i{i}"))
    else:
        inp = next((os.path.join(crash_dir, n) for n in ("minimized", "input") if os.path.exists(os.path.join(crash_dir, n))), None)
        if inp is None:
            raise SystemExit((EXIT_USAGE, f"{crash_dir} holds no finding.json, minimized or input file"))
        kind = "oracle"
        target = os.path.basename(crash_dir).split("-", 1)[0]
        if target not in ("sqe", "register", "setup"):
            raise SystemExit((EXIT_USAGE, f"cannot tell the target of {crash_dir} (its name starts with sqe-, register- or setup-)"))
        log = os.path.join(crash_dir, "log")
        want = oracle_key(open(log, encoding="utf-8", errors="replace").read()) if os.path.exists(log) else None
        files["/ringcheck/fuzz/replay/input"] = inp
        steps.append(("run", "input", f"/ringcheck/fuzz/bin/{target}_fuzzer", "-runs=1", "/ringcheck/fuzz/replay/input"))
    b = replay_boot(ctx, steps, files, "replay")
    if b.status == "noboot":
        raise SystemExit((EXIT_NO_BOOT, f"the kernel {ctx.kernel['label']} does not boot to userspace under qemu"))
    ran = {m[1]: m[2] for m in b.marks if m[0] == "RAN" and len(m) > 2}
    out = ""
    for s in steps:
        p = os.path.join(ctx.guest_dir, f"boot{b.n}", "run", f"{s[1]}.out")
        if os.path.exists(p):
            out += open(p, encoding="utf-8", errors="replace").read()
    broke = b.status in ("panic", "problem", "hang", "died", "taint")
    title, frames = problem_key(b.console_lines()) if broke else ("", [])
    if b.status == "hang" and not title:
        running = next((m[1] for m in reversed(b.marks) if m[0] == "RUN" and len(m) > 1), "?")
        title = f"no progress for {ctx.args.hang} s while step {running} ran"
    if kind == "program":
        rc = ran.get("finding")
        verdict = {"1": "reproduces", "0": "does not reproduce", "77": "not applicable"}.get(rc, "error")
        if broke:
            verdict, detail = "kernel broke", f"{b.status}: {title}"
        else:
            lines = out.splitlines()
            line = next((l for l in lines if l.startswith(("FINDING", "NOT APPLICABLE"))), lines[-1] if lines else "")
            detail = f"exit {rc}: {line}"
    elif kind == "kernel":
        if broke:
            same = (title, frames[:2]) == (finding.get("title"), finding.get("frames", [])[:2])
            verdict = "reproduces" if same else "another kernel problem"
            detail = f"{b.status}: {title} {' '.join(frames)}"
        else:
            verdict, detail = "does not reproduce", f"{len(ran)} input(s) ran, the kernel stayed well"
    else:
        rc = ran.get("input")
        again = oracle_key(out)
        if broke:
            verdict, detail = "kernel broke", f"{b.status}: {title}"
        elif rc not in (None, "0") and (want is None or again == want):
            verdict, detail = "reproduces", again or f"exit {rc}"
        elif rc not in (None, "0"):
            verdict, detail = "another crash", again or f"exit {rc}"
        else:
            verdict, detail = "does not reproduce", "the input ran without an oracle failure"
    record = {"verdict": verdict, "detail": detail, "release": b.release or ctx.kernel["release"],
              "package": ctx.kernel["source"], "when": now_utc()}
    try:
        data = json.load(open(os.path.join(crash_dir, "reproduced.json"))) if os.path.exists(os.path.join(crash_dir, "reproduced.json")) else {}
        data[ctx.kernel["label"]] = record
        with open(os.path.join(crash_dir, "reproduced.json"), "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        if os.path.exists(fj) and kind == "kernel":
            finding.setdefault("reproduced", {})[ctx.kernel["label"]] = record
            with open(fj, "w") as f:
                json.dump(finding, f, indent=1)
    except OSError as e:
        say(f"cannot record the answer in {crash_dir}: {e.strerror}")
    return verdict, detail


# --- main --------------------------------------------------------------------------

def parse(argv):
    p = argparse.ArgumentParser(prog="fuzz_vm.py")
    p.add_argument("mode", choices=["fuzz", "replay"])
    p.add_argument("targets", nargs="*")
    p.add_argument("--kernel", required=True)
    p.add_argument("--bin", required=True, help="directory of the fuzzer binaries")
    p.add_argument("--busybox", required=True, help="the guest's static busybox (@guest_userland//:busybox)")
    p.add_argument("--sysroot", required=True, help="the guest userland's Debian packages, unpacked into a "
                   "tarball (@guest_userland//:sysroot.tar): the fuzzers' shared libraries come from it")
    p.add_argument("--out", default="fuzz-out")
    p.add_argument("--time", type=int, default=600)
    p.add_argument("--known", default="")
    p.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    p.add_argument("--results", help="a ./ringcheck vm results directory to put the fuzz report in")
    p.add_argument("--hang", type=int, default=180, help="seconds without a new input or mark")
    p.add_argument("--boot-timeout", type=int, default=150)
    p.add_argument("--memory", type=int, default=2048)
    p.add_argument("--append", default=os.environ.get("RINGCHECK_VM_APPEND", ""))
    p.add_argument("--oops-panic", action="store_true", help="oops=panic on the kernel command line")
    p.add_argument("--inject-panic", type=int, help="crash the first boot's kernel N s into fuzzing (a test of this job)")
    p.add_argument("--die-early", action="store_true", help="crash the first boot before its first input (a test)")
    p.add_argument("--qemu", default=os.environ.get("RINGCHECK_QEMU", "qemu-system-x86_64"))
    p.add_argument("--cache", default=os.environ.get("RINGCHECK_CACHE", os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.environ.get("HOME", "/tmp"), ".cache")), "ringcheck")))
    return p.parse_args(argv)


def main(argv):
    try:
        args = parse(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    ctx = Ctx()
    ctx.args, ctx.signalled = args, None
    ctx.t0, ctx.started = time.monotonic(), now_utc()
    ctx.targets = args.targets or ["sqe", "register", "setup"]
    ctx.known = args.known
    ctx.boots, ctx.boot_list, ctx.boot_s, ctx.kcov, ctx.release, ctx.retried_boot = 0, [], None, None, None, False
    ctx.kernel_findings, ctx.oracle_crashes, ctx.unreproduced, ctx.spent = [], [], [], {}
    ctx.gave_up = {}

    def on_signal(sig, frame):
        ctx.signalled = sig
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    status, reason = EXIT_OK, "no new finding"
    report_ready = False
    try:
        ctx.kernel = resolve_kernel(args.kernel, args.cache)
        ctx.out = os.path.abspath(args.out)
        try:
            os.makedirs(os.path.join(ctx.out, "crashes"), exist_ok=True)
        except OSError as e:
            raise SystemExit((EXIT_DISK_FULL if e.errno == errno.ENOSPC else EXIT_CANNOT_RUN, f"cannot create {ctx.out}: {e.strerror}"))
        if shutil.disk_usage(ctx.out).free < MIN_FREE_BYTES:
            raise SystemExit((EXIT_DISK_FULL, f"{ctx.out} has less than {MIN_FREE_BYTES >> 20} MiB free: no room for the corpus and crashes"))
        if args.mode == "fuzz" and args.time < BOOT_ESTIMATE_S + MIN_SHARE_S * len(ctx.targets):
            raise SystemExit((EXIT_TIME_SHORT, f"--time {args.time} s is too short to boot a guest and fuzz "
                              f"{len(ctx.targets)} target(s): give it at least {BOOT_ESTIMATE_S + MIN_SHARE_S * len(ctx.targets)} s"))
        ctx.corpus = {}
        for t in ctx.targets:
            ctx.corpus[t] = os.path.join(ctx.out, "corpus", ctx.kernel["label"], t)
            os.makedirs(ctx.corpus[t], exist_ok=True)
            seeds = os.path.join(ROOT, "fuzz", t, "corpus")
            if not os.listdir(ctx.corpus[t]) and os.path.isdir(seeds):
                for n in os.listdir(seeds):
                    shutil.copyfile(os.path.join(seeds, n), os.path.join(ctx.corpus[t], n))
        ctx.work = tempfile.mkdtemp(prefix=".fuzz-vm.", dir=ctx.out)
        ctx.guest_dir = os.path.join(ctx.out, "guest", ctx.kernel["label"], ctx.started.replace(":", ""))
        os.makedirs(ctx.guest_dir, exist_ok=True)
        userland = Userland(ctx.work, args.busybox, args.sysroot)
        ctx.base = build_base(ctx.work, args.bin, ctx.targets if args.mode == "fuzz" else ["sqe", "register", "setup"],
                              ctx.known, userland)
        shutil.rmtree(userland.sysroot)
        if args.mode == "replay":
            if not args.targets:
                raise SystemExit((EXIT_USAGE, "replay needs a crash directory"))
            verdict, detail = replay(ctx, args.targets[0])
            print(f"{args.targets[0]} on {ctx.kernel['label']} ({ctx.kernel['source']}): {verdict} ({detail})")
            return {"reproduces": 1, "does not reproduce": 0, "not applicable": 0}.get(verdict, 3)
        run_fuzz(ctx)
        if not ctx.signalled:
            check_oracle_crashes(ctx)
        new = [k for k in ctx.kernel_findings if k["new"]] + [c for c in ctx.oracle_crashes if c["new"]]
        if ctx.signalled:
            status = EXIT_SIGNAL.get(ctx.signalled, 130)
            reason = f"interrupted by signal {ctx.signalled}; the report covers what ran"
        elif new:
            status, reason = EXIT_FINDING, f"{len(new)} new finding(s)"
        report_ready = True
    except SystemExit as e:
        if isinstance(e.code, tuple):
            status, reason = e.code
            say(reason)
            report_ready = args.mode == "fuzz" and hasattr(ctx, "work")
        else:
            raise
    except DiskFull as e:
        status, reason = EXIT_DISK_FULL, f"the disk under {args.out} is full ({e}); the corpus kept so far is whole"
        say(reason)
        report_ready = hasattr(ctx, "work")
    finally:
        if hasattr(ctx, "work"):
            shutil.rmtree(ctx.work, ignore_errors=True)
    if report_ready and args.mode == "fuzz":
        r = write_report(ctx, status, reason)
        runs = ", ".join(f"{t['name']} {t['runs']} runs" for t in r["targets"])
        say(f"report: {os.path.join(ctx.out, 'fuzz-report.md')} ({runs})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
