"""report.md: the report for people who read it in a terminal or a review."""

import results

MARKS = {"supported": "yes", "unsupported": "-", "unknown": "?", "FAIL": "**FAIL**",
         "XFAIL": "XFAIL", "ERROR": "**ERROR**"}


def _esc(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_line(k):
    s = k["summary"]
    parts = ", ".join(f"{s[v]} {v}" for v in results.VERDICTS)
    health = "RED" if k["health"]["red"] else "clean"
    vm = k.get("vm")
    guest = f"; guest: {vm['status']}" if vm and vm.get("status") != "ok" else ""
    return f"Linux {k['release']} ({k['source']}): {s['total']} tests: {parts}; kernel health: {health}{guest}"


def _overview(report):
    kernels = report["kernels"]
    out = ["| kernel | source | total | PASS | FAIL | SKIP | XFAIL | ERROR | health | guest |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for k in kernels:
        s, vm = k["summary"], k.get("vm") or {}
        guest = f"{vm['status']}, {vm.get('wall_s', '?')} s" if vm else "host"
        out.append(f"| {k['release']} | {_esc(k['source'])} | {s['total']} | "
                   + " | ".join(str(s[v]) for v in results.VERDICTS)
                   + f" | {'RED' if k['health']['red'] else 'clean'} | {guest} |")
    return out + [""]


def _feature_table(report):
    """Only the features on which the kernels differ (or that fail somewhere)."""
    ids = [k["id"] for k in report["kernels"]]
    rows = [r for r in report["features"]
            if len({r["cells"][i]["state"] for i in ids}) > 1
            or any(r["cells"][i]["state"] in ("FAIL", "XFAIL", "ERROR") for i in ids)]
    if not rows:
        return ["Every kernel has the same features.", ""]
    out = ["| feature | mainline | " + " | ".join(ids) + " |", "|---|---|" + "---|" * len(ids)]
    for r in rows:
        out.append(f"| `{r['id']}` | {r['mainline']} | "
                   + " | ".join(MARKS.get(r["cells"][i]["state"], "?") for i in ids) + " |")
    return out + ["", f"({len(report['features']) - len(rows)} features alike on every kernel are not listed.)", ""]


def _cards(cards, title):
    if not cards:
        return []
    out = [f"## {title}", ""]
    for c in cards:
        out.append(f"### {c['name']} ({c['binary']})")
        out.append("")
        out.append(f"- rule: {_esc(c['rule']) or '-'}")
        if c["reason"]:
            out.append(f"- reason: {_esc(c['reason'])}")
        if c["expected"]:
            out.append(f"- expected: `{_esc(c['expected'])}`; actual: `{_esc(c['actual'])}`")
        out.append("- affected: " + ", ".join(f"{a['kernel']} ({a['verdict']})" for a in c["affected"]))
        if c["not_affected"]:
            out.append("- not affected: " + ", ".join(f"{a['kernel']} ({a['verdict']})" for a in c["not_affected"]))
        if c["message"]:
            out.append(f"- message: `{_esc(c['message'])}`")
        for line in c["log"][:10]:
            out.append(f"  - `{_esc(line)}`")
        out.append("")
    return out


def _kernel_section(k):
    caps = k["capabilities"] or {}
    s, h, vm = k["summary"], k["health"], k.get("vm")
    out = [f"## Linux {k['release']} ({k['source']})", ""]
    out += [f"liburing {caps.get('liburing', '?')}, features {caps.get('features_mask', '?')}, "
            f"last opcode {caps.get('last_op', '?')}, run took {k['run'].get('duration_ms', 0) / 1000:.1f} s.", ""]
    if vm:
        out += [f"Guest: {vm['status']} ({vm.get('accel', '?')}); userspace after {vm.get('until_userspace_s')} s, "
                f"tests {vm.get('tests_s')} s, overhead {vm.get('overhead_s')} s; {vm.get('rdma', '')}", ""]
        if vm.get("message"):
            out += [f"**{_esc(vm['message'])}**", ""]
    out += ["| suite | total | PASS | FAIL | SKIP | XFAIL | ERROR |", "|---|---|---|---|---|---|---|"]
    for name, c in sorted(k["suites"].items()):
        out.append(f"| {name} | {sum(c.values())} | " + " | ".join(str(c[v]) for v in results.VERDICTS) + " |")
    out.append("| **all** | **%d** | " % s["total"] + " | ".join(f"**{s[v]}**" for v in results.VERDICTS) + " |")
    out += ["", "### Kernel health", ""]
    out.append("- taint: not readable" if h["taint_before"] is None
               else f"- taint before {h['taint_before']}, after {h['taint_after']}")
    if not h["kernel_log_readable"]:
        out.append("- kernel log: not readable by the tests (run as root to watch it)")
    out += [f"- kernel log: `{_esc(p)}`" for p in h["problems"]]
    out += [f"- verdict: **{'RED' if h['red'] else 'clean'}**", ""]

    unexpected = [t for t in k["tests"] if t["unexpected_pass"]]
    if unexpected:
        out += ["### Unexpected passes", ""] + [f"- {t['name']}: {_esc(t['reason'])}" for t in unexpected] + [""]
    out += ["### Setup flags this kernel refuses", ""]
    out += [f"- IORING_SETUP_{n}: {r}" for n, r in k["refused_setup_flags"].items()] or ["- none"]
    out.append("")
    skips = {}
    for t in k["tests"]:
        if t["verdict"] == "SKIP":
            skips.setdefault(t["reason"], []).append(t["name"])
    if skips:
        out += ["### Skipped, by reason", "", "| reason | tests | examples |", "|---|---|---|"]
        for reason, names in sorted(skips.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            examples = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            out.append(f"| {_esc(reason)} | {len(names)} | {_esc(examples)} |")
        out.append("")
    unsupported = [f["id"] for f in caps.get("features", []) if not f["supported"]]
    out += ["### Features the probe did not find", ""]
    out += [", ".join(f"`{u}`" for u in unsupported) if unsupported else "none", ""]
    fuzz = k.get("fuzz")
    if fuzz:
        out += ["### Fuzzing", ""]
        if fuzz.get("error"):
            out += [f"- {_esc(fuzz['error'])}", ""]
        for t in fuzz.get("targets") or []:
            crashes = t.get("crashes", [])
            n = len(crashes) if isinstance(crashes, list) else crashes
            facts = ", ".join(f"{key} {_esc(v)}" for key, v in t.items()
                              if key not in ("name", "target", "crashes") and not isinstance(v, (list, dict)))
            out.append(f"- `{_esc(t.get('name') or t.get('target', '?'))}`: {n} crashes; {facts}")
        out.append("")
    return out


def render(report):
    out = ["# ringcheck report", "", f"Generated {report['generated']}.", ""]
    out += _overview(report)
    if len(report["kernels"]) > 1:
        out += ["## Features that differ between kernels", ""] + _feature_table(report)
    out += _cards(report["failures"], "Failures and errors")
    out += _cards(report["known_deviations"], "Known deviations (XFAIL)")
    if report["disagreements"]:
        out += ["## Probe versus version table", "",
                "A backport: the release is older than the feature's mainline, yet the probe finds it. "
                "Missing: the release is new enough, yet the probe does not find it.", "",
                "| kernel | feature | mainline | |", "|---|---|---|---|"]
        out += [f"| {d['release']} | `{d['feature']}` | {d['mainline']} | {d['kind']} |" for d in report["disagreements"]]
        out.append("")
    for k in report["kernels"]:
        out += _kernel_section(k)
    return "\n".join(out)
