"""report.md: the report for people who read it in a terminal or a review."""

import fuzz_view
import results

import matrix

MARKS = {"supported": "yes", "unsupported": "-", "unknown": "?", "FAIL": "**FAIL**",
         "XFAIL": "XFAIL", "XPASS": "**XPASS**", "ERROR": "**ERROR**"}
VERDICT_COLUMNS = " | ".join(results.VERDICTS)
VERDICT_RULE = "---|" * len(results.VERDICTS)


def _esc(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_line(k):
    s = k["summary"]
    parts = ", ".join(f"{s[v]} {v}" for v in results.VERDICTS)
    health = "RED" if k["health"]["red"] else "clean"
    vm = k.get("vm")
    guest = f"; guest: {vm['status']}" if vm and vm.get("status") != "ok" else ""
    unavailable = k["run"].get("io_uring_unavailable")
    if unavailable:
        return f"Linux {k['release']} ({k['source']}): io_uring unavailable: {unavailable}"
    return f"Linux {k['release']} ({k['source']}): {s['total']} tests: {parts}; kernel health: {health}{guest}"


def _overview(report):
    kernels = report["kernels"]
    out = [f"| kernel | source | total | {VERDICT_COLUMNS} | health | guest |",
           f"|---|---|---|{VERDICT_RULE}---|---|"]
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
            or any(r["cells"][i]["state"] in matrix.BAD for i in ids)]
    if not rows:
        return ["Every kernel has the same features.", ""]
    out = ["| feature | mainline | " + " | ".join(ids) + " |", "|---|---|" + "---|" * len(ids)]
    for r in rows:
        out.append(f"| `{r['id']}` | {r['mainline']} | "
                   + " | ".join(MARKS.get(r["cells"][i]["state"], "?") for i in ids) + " |")
    return out + ["", f"({len(report['features']) - len(rows)} features alike on every kernel are not listed.)", ""]


def _rule_lines(rules, texts):
    return [f"  - {r} ({texts[r]['file']}): {_esc(texts[r]['text'])}" for r in rules if r in texts]


def _cards(cards, title, texts):
    if not cards:
        return []
    out = [f"## {title}", ""]
    for c in cards:
        out.append(f"### {c['name']} ({c['binary']})")
        out.append("")
        out.append(f"- rule: {_esc(c['rule']) or '-'}")
        out += _rule_lines(c["rules"], texts)
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


def _tested_features(report):
    """Opcodes, per kernel: supported and how their tests fared, or untested."""
    ids = [k["id"] for k in report["kernels"]]
    rows = [r for r in report["features"] if r["id"].startswith("op_")]
    if not rows:
        return []
    out = ["## Opcodes: supported and tested", "",
           "| opcode | " + " | ".join(ids) + " |", "|---|" + "---|" * len(ids)]
    for r in rows:
        out.append(f"| `{r['id']}` | " + " | ".join(matrix.cell_text(r["cells"][i]) for i in ids) + " |")
    untested = sum(1 for r in rows for i in ids
                   if r["cells"][i]["probed"] == "supported" and not r["cells"][i]["tested"])
    return out + ["", f"({untested} supported opcode x kernel cells have no test that ran.)", ""]


def _kernel_section(k):
    caps = k["capabilities"] or {}
    s, h, vm = k["summary"], k["health"], k.get("vm")
    out = [f"## Linux {k['release']} ({k['source']})", ""]
    if k["run"].get("io_uring_unavailable"):
        out += [f"**io_uring is unavailable on this kernel: {_esc(k['run']['io_uring_unavailable'])}.** "
                "No suite ran.", ""]
    out += [f"liburing {caps.get('liburing', '?')}, features {caps.get('features_mask', '?')}, "
            f"last opcode {caps.get('last_op', '?')}, run took {k['run'].get('duration_ms', 0) / 1000:.1f} s.", ""]
    if vm:
        out += [f"Guest: {vm['status']} ({vm.get('accel', '?')}); userspace after {vm.get('until_userspace_s')} s, "
                f"tests {vm.get('tests_s')} s, overhead {vm.get('overhead_s')} s; {vm.get('rdma', '')}", ""]
        if vm.get("message"):
            out += [f"**{_esc(vm['message'])}**", ""]
        for b in vm.get("earlier_boots", []):
            out += [f"An earlier boot of this kernel died before its userspace started and it was booted "
                    f"once more: {_esc(b.get('message', b.get('status')))}", ""]
    out += [f"| suite | total | {VERDICT_COLUMNS} |", f"|---|---|{VERDICT_RULE}"]
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

    unexpected = [t for t in k["tests"] if t["verdict"] == "XPASS"]
    if unexpected:
        out += ["### Listed deviations that did not happen (XPASS: fix or remove the entry)", ""]
        out += [f"- {t['name']}: {_esc(t['reason'])}" for t in unexpected] + [""]
    observed = [t for t in k["tests"] if t.get("observations")]
    if observed:
        out += ["### Kernel behaviour the harness worked around", "",
                "Not verdicts: the tests below went on past what the kernel did, and say so.", ""]
        out += [f"- {t['name']}: {_esc('; '.join(t['observations'][:3]))}" for t in observed[:30]] + [""]
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
        view = fuzz_view.summary(fuzz)
        if view["facts"]:
            out += ["; ".join(_esc(f) for f in view["facts"]), ""]
        out += [f"- {_esc(n)}" for n in view["notes"]]
        for t in view["targets"]:
            ids = f" ({', '.join(f'`{_esc(i)}`' for i in t['crash_ids'])})" if t["crash_ids"] else ""
            cnr = f"; could not run: {_esc(t['could_not_run'])}" if t["could_not_run"] else ""
            out.append(f"- `{_esc(t['name'])}`: {t['crashes']} crashes{ids}; {t['runs']} runs, "
                       f"{t['execs_per_s']} execs/s, {t['features']} features{cnr}")
        for f in view["kernel_findings"]:
            out.append(f"- kernel finding `{_esc(f['id'])}`{' (new)' if f['new'] else ''}: {_esc(f['kind'])}: "
                       f"{_esc(f['title'])} {_esc(f['frames'])}; reproduces on: {_esc(f['reproduces_on'])}")
        if view["unreproduced"]:
            out.append(f"- {len(view['unreproduced'])} crash(es) did not reproduce alone (listed in the fuzz report, not counted)")
        out.append("")
    return out


def render(report):
    out = ["# ringcheck report", "", f"Generated {report['generated']}.", ""]
    out += _overview(report)
    if len(report["kernels"]) > 1:
        out += ["## Features that differ between kernels", ""] + _feature_table(report)
    texts = report.get("rule_texts", {})
    out += _cards(report["failures"], "Failures, errors and stale expectations", texts)
    bugs = report.get("kernel_bugs", [])
    if bugs:
        out += ["## Kernel bugs", "",
                "Known deviations whose expectation names a kernel bug and its cause; each is an XFAIL on "
                "the kernels listed as affected and a PASS where the bug is fixed.", ""]
        for c in bugs:
            affected = ", ".join(a["kernel"] for a in c["affected"])
            fixed = ", ".join(a["kernel"] for a in c["not_affected"] if a["verdict"] == "PASS") or "none here"
            out.append(f"- **{_esc(c['name'])}** (rule {_esc(c['rule']) or '-'}): {_esc(c['reason'])} "
                       f"Affected: {affected}. Fixed: {fixed}.")
        out.append("")
    out += _cards(report["known_deviations"], "Known deviations (XFAIL)", texts)
    out += _tested_features(report)
    if report.get("uncovered"):
        out += ["## Rules no test here can show", ""]
        for u in report["uncovered"]:
            text = texts.get(u["rule"], {}).get("text", "")
            out.append(f"- {u['rule']} ({u['where']}): {_esc(u['reason'])}" + (f" Rule: {_esc(text)}" if text else ""))
        out.append("")
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
