"""Reading results directories: the one place that knows their layout.

A results directory (written by ./ringcheck run, or by the VM runner for a
guest kernel) holds run.json, capabilities.json, suites/<binary>.jsonl and
optionally binaries.jsonl and fuzz/fuzz-report.json. A guest's directory
adds run.json "vm" (how the guest ended, the binaries it was to run),
kernel.log (its dmesg) and console.log. load() turns one into a plain dict
that report.py and diff.py share.
"""

import json
import os
import re

VERDICTS = ("PASS", "FAIL", "SKIP", "XFAIL", "XPASS", "ERROR")
# Verdicts that make a run fail: a FAIL, a test that could not finish, and a
# listed deviation that did not happen (a stale expectation).
FAILING = ("FAIL", "ERROR", "XPASS")


class ResultsError(Exception):
    """A results directory that cannot be read; the message is one sentence."""


def _read_json(path, required):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return json.load(f)
    except FileNotFoundError:
        if required:
            raise ResultsError(f"{path} is missing")
        return None
    except (OSError, ValueError) as e:
        raise ResultsError(f"{path} cannot be read: {e}")


def _read_events(path):
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:
                    # A line cut short by a crash: keep what came before it.
                    events.append({"event": "corrupt", "line": number})
    except OSError as e:
        raise ResultsError(f"{path} cannot be read: {e}")
    return events


def _read_fuzz(directory):
    """fuzz/fuzz-report.json (schema ringcheck.fuzz/1), if the run fuzzed. A
    broken one is reported as such instead of hiding the test results."""
    try:
        return _read_json(os.path.join(directory, "fuzz", "fuzz-report.json"), required=False)
    except ResultsError as e:
        return {"schema": None, "error": str(e)}


def unfinished(events):
    """Tests that started but never ended (the process died in them)."""
    open_tests = []
    for e in events:
        if e.get("event") == "start":
            open_tests.append(e["test"])
        elif e.get("event") == "end" and e.get("test") in open_tests:
            open_tests.remove(e["test"])
    return open_tests


def _binary_ends(path):
    """binary name -> list of exit codes of its attempts (binaries.jsonl)."""
    ends = {}
    if not os.path.exists(path):
        return ends
    for e in _read_events(path):
        if "binary" in e:
            ends.setdefault(e["binary"], []).append(e.get("exit_code", 0))
    return ends


def _problem_patterns():
    """harness/kernel_problems.txt: the one list of kernel-log problem lines."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "..", "harness", "kernel_problems.txt"),
                 os.path.join(here, "kernel_problems.txt")):
        try:
            with open(path, encoding="utf-8") as f:
                return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
        except OSError:
            continue
    raise ResultsError("harness/kernel_problems.txt is missing from this installation")


class _Problems:
    def __init__(self):
        self._patterns = None

    def search(self, line):
        if self._patterns is None:
            self._patterns = _problem_patterns()
        return any(p in line for p in self._patterns)


PROBLEM = _Problems()


def _guest_log_problems(directory):
    """Problem lines of a guest's kernel.log from the first suite on (boot noise excluded)."""
    try:
        with open(os.path.join(directory, "kernel.log"), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    start = next((i for i, l in enumerate(lines) if "ringcheck: " in l), len(lines))
    return [re.sub(r"^\[\s*[0-9.]+\] ", "", l) for l in lines[start:] if PROBLEM.search(l)]


def _error_test(binary, name, message, log=()):
    return {"binary": binary, "name": name, "suite": name.rsplit(".", 1)[0], "param": None,
            "verdict": "ERROR", "reason": "", "rules": [], "messages": [message],
            "duration_ms": 0, "kernel_log": list(log), "features": [], "checks": [],
            "observations": [], "expectation": ""}


def _describe_exit(code):
    if code in (124, 137):
        return "timed out"
    if code > 128:
        return f"killed by signal {code - 128}"
    return f"exited {code}"


def load(directory):
    if not os.path.isdir(directory):
        raise ResultsError(f"{directory} is not a results directory")
    run = _read_json(os.path.join(directory, "run.json"), required=True)
    caps = _read_json(os.path.join(directory, "capabilities.json"), required=False)
    suites_dir = os.path.join(directory, "suites")
    if not os.path.isdir(suites_dir):
        raise ResultsError(f"{directory} has no suites/ directory")
    ends = _binary_ends(os.path.join(directory, "binaries.jsonl"))

    tests, health_problems = [], []
    taint_before, taint_after, kmsg_readable = None, None, False
    binaries = sorted(f[:-6] for f in os.listdir(suites_dir) if f.endswith(".jsonl"))
    for binary in binaries:
        events = _read_events(os.path.join(suites_dir, binary + ".jsonl"))
        codes = ends.get(binary, [])
        for e in events:
            kind = e.get("event")
            if kind == "end":
                verdict = e["verdict"]
                # Results of schema 1 marked a stale expectation as a PASS with
                # "unexpected_pass"; it is an XPASS.
                if verdict == "PASS" and e.get("unexpected_pass"):
                    verdict = "XPASS"
                tests.append({
                    "binary": binary,
                    "name": e["test"],
                    "suite": e.get("suite", ""),
                    "param": e.get("param"),
                    "verdict": verdict,
                    "reason": e.get("reason", ""),
                    "rules": e.get("rules", []),
                    "messages": e.get("messages", []),
                    "duration_ms": e.get("duration_ms", 0),
                    "kernel_log": e.get("kernel_log", []),
                    "features": e.get("features", []),
                    "checks": e.get("checks", []),
                    "observations": e.get("observations", []),
                    "expectation": e.get("expectation", ""),
                })
            elif kind == "program_start":
                t = e.get("taint", -1)
                if t >= 0:
                    taint_before = t if taint_before is None else min(taint_before, t)
            elif kind == "program_end":
                t = e.get("taint_after", -1)
                if t >= 0:
                    taint_after = t if taint_after is None else max(taint_after, t)
                kmsg_readable = kmsg_readable or e.get("kernel_log_readable", False)
                health_problems.extend(e.get("kernel_log", []))
        crash = next((_describe_exit(c) for c in codes if c > 1), "ended early")
        for name in unfinished(events):
            tests.append(_error_test(binary, name, f"the test process {crash} during this test"))
    for binary, codes in sorted(ends.items()):
        if binary not in binaries:
            tests.append(_error_test(binary, binary, f"{binary} {_describe_exit(codes[-1])} before recording anything"))

    # A guest that panicked, hung or died: one ERROR for the kernel, with its
    # console, and one for every binary it never got to.
    vm = run.get("vm")
    if vm and vm.get("status", "ok") != "ok":
        ended = {"panic": "panicked", "hang": "hung"}.get(vm["status"], vm["status"])
        tests.append(_error_test("vm", "VM.GuestRanToTheEnd", vm.get("message") or f"the guest {ended}",
                                 vm.get("console_excerpt", [])))
        for binary in vm.get("planned_binaries", []):
            if binary not in binaries and binary not in ends:
                tests.append(_error_test(binary, binary, f"{binary} never ran: the guest {ended} before its turn"))
    if vm:
        if taint_before is None and vm.get("taint_before") is not None:
            taint_before = vm["taint_before"]
        if vm.get("taint_after") is not None:
            taint_after = max(taint_after or 0, vm["taint_after"])
        health_problems.extend(_guest_log_problems(directory))

    summary = {v: 0 for v in VERDICTS}
    per_binary = {}
    for t in tests:
        summary[t["verdict"]] += 1
        per_binary.setdefault(t["binary"], {v: 0 for v in VERDICTS})[t["verdict"]] += 1
    summary["total"] = len(tests)
    tainted = taint_before is not None and taint_after is not None and taint_after != taint_before
    health = {
        "taint_before": taint_before,
        "taint_after": taint_after,
        "kernel_log_readable": kmsg_readable,
        "problems": sorted(set(health_problems)),
        "red": bool(tainted or health_problems or (vm and vm.get("status") == "panic")),
    }
    release = run.get("kernel_release") or (caps or {}).get("kernel", {}).get("release", "unknown")
    return {
        "id": release,
        "release": release,
        "source": run.get("source", "host"),
        "dir": directory,
        "vm": vm,
        "run": run,
        "capabilities": caps,
        "tests": tests,
        "summary": summary,
        "suites": per_binary,
        "health": health,
        "fuzz": _read_fuzz(directory),
    }
