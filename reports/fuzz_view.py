"""The fuzz part of a kernel's report, shared by the renderers: what
fuzz/fuzz-report.json (schema ringcheck.fuzz/1, host or guest job) says, as
plain rows. Old reports without the guest fields give the same rows with
nothing in them."""


def _n(v):
    return len(v) if isinstance(v, list) else (v or 0)


def summary(fuzz):
    """{facts, targets[], kernel_findings[], unreproduced[], notes[]} for one
    kernel's fuzz report."""
    if not isinstance(fuzz, dict):
        return {"facts": [], "targets": [], "kernel_findings": [], "unreproduced": [], "notes": []}
    facts = []
    for key, label in (("kernel_source", "kernel"), ("started", "started"), ("duration_s", "seconds"),
                       ("known_findings_stepped_around", "known findings stepped around")):
        if fuzz.get(key):
            facts.append(f"{label}: {fuzz[key]}")
    guest = fuzz.get("guest") or {}
    if guest:
        facts.append(f"in qemu ({guest.get('accel', '?')}), {len(guest.get('boots') or [])} boot(s)")
    targets = []
    for t in fuzz.get("targets") or []:
        if not isinstance(t, dict):
            continue
        targets.append({"name": t.get("name") or t.get("target", "?"), "runs": t.get("runs", 0),
                        "execs_per_s": t.get("execs_per_s", 0), "features": t.get("features", 0),
                        "crashes": _n(t.get("crashes")), "crash_ids": [c.get("id", "?") for c in t.get("crashes") or []
                                                                       if isinstance(c, dict)],
                        "could_not_run": t.get("could_not_run", "")})
    findings = []
    for k in fuzz.get("kernel_findings") or []:
        if not isinstance(k, dict):
            continue
        rep = k.get("reproduces_on") or {}
        findings.append({"id": k.get("id", "?"), "kind": k.get("kind", "?"), "title": k.get("title", ""),
                         "frames": " ".join(k.get("frames") or []), "new": bool(k.get("new")),
                         "reproduces_on": ", ".join(f"{kk}: {v.get('verdict', '?')}" for kk, v in sorted(rep.items())
                                                    if isinstance(v, dict)) or "not replayed"})
    unrepro = [u for u in fuzz.get("unreproduced") or [] if isinstance(u, dict)]
    return {"facts": facts, "targets": targets, "kernel_findings": findings, "unreproduced": unrepro,
            "notes": [n for n in fuzz.get("notes") or [] if isinstance(n, str)]}
