"""Views across kernels: feature x kernel, test x kernel, rule x kernel,
failure cards, and where a probe disagrees with the mainline version table.

Everything here works on the dicts results.load() returns, ordered and
given unique ids by order_kernels(); nothing reads files.
"""

import re

# Most serious first: a cell shows the worst verdict it covers.
SEVERITY = {"ERROR": 6, "FAIL": 5, "XPASS": 4, "XFAIL": 3, "PASS": 2, "SKIP": 1, None: 0}
BAD = ("FAIL", "XPASS", "XFAIL", "ERROR")
FEATURE_GROUPS = (("op_", "opcodes"), ("setup_", "setup flags"), ("register_", "register opcodes"),
                  ("feat_", "feature bits"))


def version_key(release):
    """(major, minor, patch) from "6.12.107+deb13-amd64"; (0,) when there is none."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release or "")
    return tuple(int(x) for x in m.groups(default="0")) if m else (0,)


def order_kernels(kernels):
    """Kernels by version (oldest first), each with a unique "id"."""
    ordered = sorted(kernels, key=lambda k: version_key(k["release"]))
    seen = {}
    for k in ordered:
        n = seen.get(k["release"], 0) + 1
        seen[k["release"]] = n
        k["id"] = k["release"] if n == 1 else f"{k['release']} #{n}"
    return ordered


def worst(verdicts):
    return max(verdicts, key=lambda v: SEVERITY.get(v, 0), default=None)


def feature_group(fid):
    return next((title for prefix, title in FEATURE_GROUPS if fid.startswith(prefix)), "other probes")


def _skip_feature(reason):
    return reason.split(":", 1)[1].split()[0].lower() if reason.startswith("unsupported:") else None


def _config_features(param, setup_ids):
    """Setup features a ring configuration's name spells out: the test
    AllRings/Nop.X/defer_taskrun_single_issuer needs setup_defer_taskrun and
    setup_single_issuer (harness/configs.cc names configs by their flags)."""
    if not param:
        return []
    padded = f"_{param.lower()}_"
    return [fid for fid in setup_ids if f"_{fid[len('setup_'):]}_" in padded]


def feature_matrix(kernels):
    """Rows: every feature any snapshot lists. A cell says whether the probe
    found the feature and how the tests that exercise it fared there: a test
    exercises a feature when it records it (RINGCHECK_FEATURE,
    REQUIRE_FEATURE, the opcodes its ring submitted), when it SKIPs for its
    absence, or when its ring configuration is named after it. The cell's
    state is the worst FAIL/XPASS/XFAIL/ERROR of those tests, else whether
    the probe found it; "counts" has every verdict of those tests."""
    features, order = {}, []
    for k in kernels:
        for f in (k["capabilities"] or {}).get("features", []):
            if f["id"] not in features:
                features[f["id"]] = f
                order.append(f["id"])
    depends = {}
    setup_ids = [fid for fid in order if fid.startswith("setup_")]
    for k in kernels:
        for t in k["tests"]:
            fid = _skip_feature(t["reason"]) if t["verdict"] == "SKIP" else None
            for dep in ([fid] if fid else []) + list(t.get("features", [])) + _config_features(t.get("param"), setup_ids):
                depends.setdefault(dep, set()).add((t["binary"], t["name"]))
    rows = []
    for fid in order:
        f = features[fid]
        row = {"id": fid, "what": f.get("what", ""), "mainline": f.get("mainline", ""),
               "group": feature_group(fid), "tests": len(depends.get(fid, ())), "cells": {}}
        for k in kernels:
            probed = {x["id"]: x["supported"] for x in (k["capabilities"] or {}).get("features", [])}
            state = "unknown" if fid not in probed else ("supported" if probed[fid] else "unsupported")
            mine = [t for t in k["tests"] if (t["binary"], t["name"]) in depends.get(fid, ())]
            counts = {}
            for t in mine:
                counts[t["verdict"]] = counts.get(t["verdict"], 0) + 1
            bad = [t for t in mine if t["verdict"] in BAD]
            verdict = worst([t["verdict"] for t in bad])
            row["cells"][k["id"]] = {"state": verdict or state, "probed": state, "counts": counts,
                                     "tested": bool(counts.get("PASS") or bad),
                                     "tests": sorted(t["name"] for t in bad)}
        rows.append(row)
    return rows


def cell_text(cell):
    """"supported, 12 PASS / 1 FAIL", "supported, untested", "unsupported"."""
    if cell["probed"] != "supported":
        return cell["probed"]
    ran = [f"{n} {v}" for v, n in sorted(cell["counts"].items(), key=lambda kv: -SEVERITY.get(kv[0], 0))
           if v != "SKIP" and n]
    return "supported, " + (" / ".join(ran) if ran else "untested")


def test_matrix(kernels):
    """One row per test (binary, name) seen on any kernel, in suite order."""
    rows = {}
    for k in kernels:
        for t in k["tests"]:
            key = (t["binary"], t["name"])
            row = rows.setdefault(key, {"binary": t["binary"], "suite": t["suite"], "name": t["name"],
                                        "rules": set(), "cells": {}})
            row["rules"].update(t["rules"])
            row["cells"][k["id"]] = {"verdict": t["verdict"], "reason": t["reason"]}
    out = sorted(rows.values(), key=lambda r: (r["binary"], r["suite"], r["name"]))
    for r in out:
        r["rules"] = sorted(r["rules"])
    return out


def suite_matrix(kernels):
    """binary -> kernel id -> verdict counts."""
    out = {}
    for k in kernels:
        for binary, counts in k["suites"].items():
            out.setdefault(binary, {})[k["id"]] = counts
    return dict(sorted(out.items()))


def rule_matrix(test_rows, kernels):
    """rule id -> kernel id -> worst verdict of the tests naming the rule."""
    rules = {}
    for r in test_rows:
        for rule in r["rules"]:
            for kid, cell in r["cells"].items():
                cur = rules.setdefault(rule, {}).get(kid)
                rules[rule][kid] = worst([cur, cell["verdict"]])
    return {rule: rules[rule] for rule in sorted(rules, key=_rule_key)}


def _rule_key(rule):
    m = re.match(r"([A-Z]+)(\d+)$", rule)
    return (m.group(1), int(m.group(2))) if m else (rule, 0)


_EXPECTED = re.compile(r"expected (.+?), got (.+?)(?: \(rule |$|: )")


def expected_actual(message):
    """(expected, actual) from a ringcheck matcher message, else from gtest's."""
    m = _EXPECTED.search(message)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    m = re.search(r"Expected: (.+?)(?:, actual: |\n\s*Actual: )(.+)", message, re.S)
    if m:
        return m.group(1).strip(), m.group(2).strip().splitlines()[0]
    m = re.search(r"Expected equality of these values:\s*(.+)", message, re.S)
    if m:
        return "equality", " ".join(m.group(1).split())[:160]
    first = message.strip().splitlines()[0] if message.strip() else ""
    return "", first


def rule_text(test):
    if test["rules"]:
        return ", ".join(test["rules"])
    for m in test["messages"]:
        found = re.search(r"\(rule (.+)\)", m)
        if found:
            return found.group(1)
    return ""


def failure_cards(kernels, verdicts=("FAIL", "XPASS", "ERROR")):
    """One card per test that has one of `verdicts` on some kernel."""
    cards = {}
    for k in kernels:
        for t in k["tests"]:
            if t["verdict"] not in verdicts:
                continue
            key = (t["binary"], t["name"])
            card = cards.get(key)
            if card is None:
                message = t["messages"][0] if t["messages"] else ""
                checks = t.get("checks") or []
                if checks:  # results schema 2: the matcher's fields
                    expected, actual = checks[0]["expected"], checks[0]["actual"]
                else:  # older results: read them back out of the message
                    expected, actual = expected_actual(message.split(": ", 1)[-1] if re.match(r"\S+:\d+: ", message) else message)
                card = cards[key] = {
                    "binary": t["binary"], "name": t["name"], "rule": rule_text(t), "rules": t["rules"],
                    "expected": expected, "actual": actual, "message": message, "reason": t["reason"],
                    "affected": [], "not_affected": [], "log": [],
                }
            card["affected"].append({"kernel": k["id"], "verdict": t["verdict"],
                                     "message": t["messages"][0] if t["messages"] else ""})
            for line in t["messages"][1:] + t["kernel_log"]:
                if line not in card["log"] and len(card["log"]) < 40:
                    card["log"].append(line)
    for (binary, name), card in cards.items():
        hit = {a["kernel"] for a in card["affected"]}
        for k in kernels:
            if k["id"] in hit:
                continue
            t = next((t for t in k["tests"] if t["binary"] == binary and t["name"] == name), None)
            card["not_affected"].append({"kernel": k["id"], "verdict": t["verdict"] if t else "not run",
                                         "reason": t["reason"] if t else ""})
    return sorted(cards.values(), key=lambda c: (c["binary"], c["name"]))


def disagreements(kernels):
    """Features whose presence contradicts the kernel's version: backports
    (release older than the feature's mainline, yet present) and missing
    ones (release new enough, yet absent)."""
    out = []
    for k in kernels:
        have = version_key(k["release"])[:2]
        if have == (0,) or not k["capabilities"]:
            continue
        for f in k["capabilities"].get("features", []):
            mainline = version_key(f.get("mainline"))[:2]
            if mainline == (0,):
                continue
            if f["supported"] and have < mainline:
                kind = "backport"
            elif not f["supported"] and have >= mainline:
                kind = "missing"
            else:
                continue
            out.append({"kernel": k["id"], "release": k["release"], "feature": f["id"],
                        "what": f.get("what", ""), "mainline": f.get("mainline"), "kind": kind})
    return out
