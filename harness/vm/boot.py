#!/usr/bin/env python3
"""Boot one kernel under qemu with a ringcheck initramfs; collect its results.

    boot.py --kernel VMLINUZ --initrd CPIO [--initrd CPIO]... --out DIR
            [--source TEXT] [--accel tcg|kvm] [--timeout S] [--label NAME]
            [--commit SHA] [--mode run|ping]

The guest (harness/vm/init.sh) streams framed files and progress marks over
its second serial port; the kernel console (first port) is kept whole. DIR
becomes a results directory in the layout reports/results.py reads, with
run.json's "vm" section saying how the guest ended: ok, panic (the console
says so), hang (no progress within the timeout), or died (qemu ended without
the guest saying END). Progress goes to stderr, one line per step.

Exit status: 0 the guest ran to the end, 6 it panicked, hung or died (the
results directory says which, with a console excerpt), 2 qemu could not be
started, 64 bad usage. --mode ping only boots to userspace and powers off:
exit 0 when the guest got there in time, 6 when not.
"""

import argparse
import base64
import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

EXIT_OK, EXIT_CANNOT_START, EXIT_GUEST_DIED, EXIT_USAGE = 0, 2, 6, 64
BOOT_TIMEOUT_S = 120      # from qemu start to the guest's BOOTED mark, under TCG
IDLE_MARGIN_S = 30        # beyond the per-binary timeout, for the guest to send its files
MARK = "@@RINGCHECK "


class _Problems:
    """harness/kernel_problems.txt, the one list of kernel-log problem lines:
    the console excerpt starts near the first of them."""

    def __init__(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel_problems.txt")
        with open(path, encoding="utf-8") as f:
            self.patterns = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]

    def search(self, line):
        return any(p in line for p in self.patterns)


PANIC = _Problems()


def qemu_command(args, initrd, console, data):
    # hugepages: a few 2 MiB pages reserved at boot, so the tests that need
    # huge pages (NO_MMAP rings with liburing 2.9's memory, hugetlb ranges
    # for MADV_DONTFORK) run in every guest instead of SKIPping.
    append = ["console=ttyS0", "panic=-1", "loglevel=4", "hugepages=16", f"ringcheck.timeout={args.timeout}"]
    if args.mode == "ping":
        append.append("ringcheck.mode=ping")
    append += args.append.split()
    cmd = [args.qemu, "-accel", args.accel, "-m", str(args.memory), "-smp", str(args.cpus),
           "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
           "-kernel", args.kernel, "-initrd", initrd, "-append", " ".join(append),
           "-serial", f"file:{console}", "-serial", f"file:{data}"]
    if args.accel == "kvm":
        cmd[3:3] = ["-cpu", "host"]
    return cmd


class Stream:
    """Reads the data port's file as it grows: marks and framed files."""

    def __init__(self, path):
        self.path, self.offset, self.partial = path, 0, b""
        self.files, self.marks, self.current, self.chunks = {}, [], None, []

    def poll(self):
        """New marks since the last call, as lists of words."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        new = []
        for raw in lines:
            line = raw.decode("latin-1").strip("\r")
            if line.startswith(MARK + "FILE "):
                self.current, self.chunks = line.split()[2], []
            elif line.startswith(MARK + "EOF "):
                self._finish(line.split()[2])
            elif line.startswith(MARK):
                words = line[len(MARK):].split()
                self.marks.append(words)
                new.append(words)
            elif self.current is not None:
                self.chunks.append(line)
        return new

    def _finish(self, name):
        if name != self.current:
            return
        try:
            self.files[name] = gzip.decompress(base64.b64decode("".join(self.chunks)))
        except (ValueError, OSError, EOFError):
            self.files[name + ".corrupt"] = "".join(self.chunks).encode()
        self.current, self.chunks = None, []

    def has(self, event):
        return any(m and m[0] == event for m in self.marks)

    def last(self, event):
        return next((m for m in reversed(self.marks) if m and m[0] == event), None)


def console_excerpt(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = [l.rstrip() for l in f.read().replace("\r", "").split("\n") if l.strip()]
    except OSError:
        return []
    for i, line in enumerate(text):
        if PANIC.search(line):
            return text[max(0, i - 5): i + lines - 5]
    return text[-lines:]


def run_guest(args, work):
    initrd = os.path.join(work, "initrd")
    with open(initrd, "wb") as out:
        for part in args.initrd:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    console, data = os.path.join(work, "console.log"), os.path.join(work, "data.log")
    cmd = qemu_command(args, initrd, console, data)
    start = time.monotonic()
    try:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        raise SystemExit(f"{args.label}: cannot start {args.qemu}: {e.strerror}") from None
    stream = Stream(data)
    timings = {"booted_s": None, "tests_s": 0.0, "end_s": None}
    deadline = start + args.boot_timeout
    total = len(args.suites)
    # Several binaries run at once (the guest's runner has --jobs): the time
    # spent in tests is the time at least one of them ran.
    status, running, busy_since, count = None, set(), None, 0
    while True:
        exited = qemu.poll() is not None
        for m in stream.poll():
            now = time.monotonic()
            event = m[0]
            if event == "BOOTED":
                timings["booted_s"] = now - start
                progress(args, f"booted Linux {m[2] if len(m) > 2 else '?'} in {now - start:.1f} s")
            elif event == "RUN" and len(m) > 2 and m[2] == "0":
                count += 1
                if not running:
                    busy_since = now
                running.add(m[1])
                progress(args, f"running {m[1]} ({count}/{total})")
            elif event == "RUN":
                progress(args, f"restarting {m[1]} past a crashed test (attempt {m[2]})")
            elif event == "DONE" and m[1:2] and m[1] in running:
                running.discard(m[1])
                if not running and busy_since is not None:
                    timings["tests_s"] += now - busy_since
                    busy_since = None
            elif event == "RDMA":
                progress(args, "soft-RoCE device ready" if m[1:2] == ["0"] else "no soft-RoCE device (see logs/rdma.log)")
            elif event == "END":
                timings["end_s"] = now - start
            if args.mode == "ping" and event == "BOOTED":
                status = "ok"
            deadline = now + args.timeout + IDLE_MARGIN_S
        if status or exited:
            break
        if time.monotonic() > deadline:
            status = "hang"
            break
        # Wait on qemu itself between reads of its output files: returns at
        # once when the guest powers off, else after 0.2 s to read again.
        try:
            qemu.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    if qemu.poll() is None:
        qemu.kill()
    qemu_out = qemu.communicate()[0].decode("utf-8", "replace").strip()
    stream.poll()
    wall = time.monotonic() - start
    if args.mode == "ping":
        status = "ok" if stream.has("BOOTED") else "died"
    elif status is None and stream.has("END"):
        status = "ok"
    elif any("Kernel panic" in l for l in console_excerpt(console, 10 ** 6)):
        status = "panic"  # also a panic that hung instead of rebooting
    elif status is None:
        status = "died"
    return status, stream, timings, wall, qemu.returncode, qemu_out, console


def progress(args, text):
    print(f"{args.label}: {text}", file=sys.stderr, flush=True)


def describe(status, args, qemu_rc, qemu_out, excerpt, stream):
    if status == "ok":
        return ""
    running = []
    for m in stream.marks:
        if m[0] == "RUN" and len(m) > 1 and m[1] not in running:
            running.append(m[1])
        elif m[0] == "DONE" and len(m) > 1 and m[1] in running:
            running.remove(m[1])
    during = f" while {', '.join(running)} ran" if running else (" before userspace" if not stream.has("BOOTED") else "")
    if status == "panic":
        line = next((l for l in excerpt if PANIC.search(l)), "")
        line = re.sub(r"^\[\s*[0-9.]+\]\s*", "", line.strip())
        return f"the guest kernel panicked{during}: {line}"
    if status == "hang":
        return f"the guest made no progress for {args.timeout + IDLE_MARGIN_S} s{during} and was stopped"
    return f"qemu ended (exit {qemu_rc}) before the guest finished{during}" + (f": {qemu_out[-300:]}" if qemu_out else "")


def write_results(args, work, status, stream, timings, wall, qemu_rc, qemu_out, console, started):
    out = os.path.join(work, "results")
    os.makedirs(os.path.join(out, "suites"), exist_ok=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    for name, data in stream.files.items():
        path = os.path.normpath(os.path.join(out, name))
        if not path.startswith(out + os.sep):
            continue  # a guest names only files under its results directory
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if os.path.exists(console):
        shutil.copyfile(console, os.path.join(out, "console.log"))
    excerpt = console_excerpt(console)
    booted = stream.last("BOOTED")
    taint = stream.last("TAINT")
    rdma_log = stream.files.get("logs/rdma.log", b"").decode("utf-8", "replace").strip().splitlines()
    tests_s = timings["tests_s"]
    run = {
        "schema": "ringcheck.run/1",
        "kernel_release": booted[2] if booted and len(booted) > 2 else args.release,
        "source": args.source,
        "started": started,
        "duration_ms": int(wall * 1000),
        "ringcheck_commit": args.commit,
        "vm": {
            "status": status,
            "message": describe(status, args, qemu_rc, qemu_out, excerpt, stream),
            "accel": args.accel,
            "kernel_image": os.path.basename(args.kernel),
            "guest_boot_s": float(booted[1]) if booted and len(booted) > 1 else None,
            "wall_s": round(wall, 1),
            "until_userspace_s": round(timings["booted_s"], 1) if timings["booted_s"] else None,
            "tests_s": round(tests_s, 1),
            "overhead_s": round(wall - tests_s, 1),
            "taint_before": int(taint[1]) if taint else None,
            "taint_after": int(taint[2]) if taint else None,
            "rdma": rdma_log[-1] if rdma_log else "not attempted",
            "planned_binaries": [s for s in args.suites],
            "console_excerpt": excerpt if status != "ok" else [],
        },
    }
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    return out


def main(argv):
    p = argparse.ArgumentParser(prog="boot.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", action="append", required=True)
    p.add_argument("--out")
    p.add_argument("--source", default="")
    p.add_argument("--release", default="unknown", help="the kernel release, if the guest never says")
    p.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    p.add_argument("--timeout", type=int, default=300, help="seconds per suite binary")
    p.add_argument("--boot-timeout", type=int, default=BOOT_TIMEOUT_S,
                   help="seconds from qemu's start to the guest's userspace")
    p.add_argument("--label", default="guest")
    p.add_argument("--commit", default="unknown")
    p.add_argument("--mode", default="run", choices=["run", "ping"])
    p.add_argument("--suite", dest="suites", action="append", default=[],
                   help="a suite binary the guest will run (for progress and the results)")
    p.add_argument("--qemu", default=os.environ.get("RINGCHECK_QEMU", "qemu-system-x86_64"))
    p.add_argument("--append", default=os.environ.get("RINGCHECK_VM_APPEND", ""),
                   help="more kernel parameters (ringcheck.mode=panic or hang test this runner)")
    p.add_argument("--memory", type=int, default=1024)
    p.add_argument("--cpus", type=int, default=2)
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    if args.mode == "run" and (not args.out or os.path.exists(args.out)):
        print(f"boot.py: --out must name a directory that does not exist yet", file=sys.stderr)
        return EXIT_USAGE
    for f in [args.kernel] + args.initrd:
        if not os.path.isfile(f):
            print(f"{args.label}: {f} does not exist", file=sys.stderr)
            return EXIT_CANNOT_START

    parent = os.path.dirname(os.path.abspath(args.out or "."))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".ringcheck-vm.", dir=parent)
    try:
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        earlier = []
        for attempt in (1, 2):
            attempt_dir = os.path.join(work, f"boot{attempt}")
            os.makedirs(attempt_dir)
            try:
                status, stream, timings, wall, rc, qemu_out, console = run_guest(args, attempt_dir)
            except SystemExit as e:
                print(e, file=sys.stderr)
                return EXIT_CANNOT_START
            # Under multi-threaded TCG a kernel now and then dies before its
            # userspace starts for reasons of the emulator (an "Oops: int3" in
            # sched_clock_idle_wakeup_event was seen once): boot it once more,
            # and keep what the first boot said.
            if status == "ok" or stream.has("BOOTED") or args.mode == "ping" or attempt == 2:
                break
            excerpt = console_excerpt(console)
            earlier.append({"status": status, "message": describe(status, args, rc, qemu_out, excerpt, stream),
                            "console_excerpt": excerpt})
            print(f"{args.label}: the guest died before its userspace started ({earlier[-1]['message']}); "
                  "booting it once more", file=sys.stderr)
        if args.mode == "ping":
            return EXIT_OK if status == "ok" else EXIT_GUEST_DIED
        results = write_results(args, attempt_dir, status, stream, timings, wall, rc, qemu_out, console, started)
        if earlier:
            with open(os.path.join(results, "run.json")) as f:
                run = json.load(f)
            run["vm"]["earlier_boots"] = earlier
            with open(os.path.join(results, "run.json"), "w") as f:
                json.dump(run, f, indent=1)
        os.replace(results, args.out)
        if status != "ok":
            with open(os.path.join(args.out, "run.json")) as f:
                print(f"{args.label}: {json.load(f)['vm']['message']}", file=sys.stderr)
            return EXIT_GUEST_DIED
        return EXIT_OK
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
