"""report.json -> a KCIDB I/O document, schema version 5 (kernelci/kcidb-io).

    ./ringcheck report DIR... --kcidb kcidb.json [--origin NAME]

One checkout and one build per kernel (from its release and Debian package
version, or what a custom image says), one test per ringcheck test:

  path    ringcheck.<suite>.<gtest suite>.<test>[.<param>], each part reduced
          to KCIDB's [a-zA-Z0-9_-] (suite: the binary without "_test")
  status  PASS, FAIL, SKIP, ERROR as ringcheck says; XFAIL is FAIL with
          waived=true (a known deviation: reported, never alerting) and the
          expectation's reason in misc; XPASS is FAIL (the expectation is stale);
          MISS for the tests of a binary a guest never got to (it died first)
  misc    ringcheck_verdict, rules, features, skip_reason, expectation and
          its reason, binary and test name, the first failure message

Ids are "<origin>:" plus a digest of what identifies the object (kernel
release and source; plus the ringcheck commit and the test for tests), so a
rerun of the same kernel and tree resubmits the same objects. Nothing is
null: a field with no value is left out, as the schema asks.
"""

import hashlib
import re

import spec_rules

ORIGIN_RE = re.compile(r"^[a-z0-9_]+$")
PART_RE = re.compile(r"[^a-zA-Z0-9_-]")
LOG_EXCERPT_MAX = 16384


class OriginError(ValueError):
    pass


def check_origin(origin):
    if not ORIGIN_RE.match(origin or ""):
        raise OriginError(f"--origin must match [a-z0-9_]+ (KCIDB's origin names), not {origin!r}")
    return origin


def _digest(*parts):
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _part(text):
    return PART_RE.sub("_", text) or "_"


def test_path(binary, name):
    """ringcheck.<suite>.<parts of the gtest name>, a valid KCIDB dot-path."""
    suite = binary[:-5] if binary.endswith("_test") else binary
    parts = [p for p in re.split(r"[./]", name) if p != ""]
    return ".".join(["ringcheck", _part(suite)] + [_part(p) for p in parts])


def _package(source):
    """("linux-image-6.1.0-50-amd64", "6.1.176-1") from a Debian source, else (None, None)."""
    m = re.match(r"^debian:\S+ \((\S+) (\S+)\)$", source or "")
    return (m.group(1), m.group(2)) if m else (None, None)


def _clean(obj):
    """Drops None values and empty strings, lists and dicts (KCIDB has no nulls)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            v = _clean(v)
            if v is None or v == "" or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(obj, list):
        return [_clean(v) for v in obj if v is not None]
    return obj


STATUS = {"PASS": "PASS", "FAIL": "FAIL", "SKIP": "SKIP", "ERROR": "ERROR", "XFAIL": "FAIL", "XPASS": "FAIL"}


def _kernel_objects(k, origin):
    run = k.get("run") or {}
    source = k.get("source") or "host"
    release = k["release"]
    package, package_version = _package(source)
    key = (release, source if package else source.split(" (bundle")[0])
    checkout_id = f"{origin}:checkout-{_digest(*key)}"
    build_id = f"{origin}:build-{_digest('build', *key)}"
    start = run.get("started")
    if source.startswith("debian:"):
        tree, comment = "debian", f"Debian {package} {package_version}" if package else source
    elif source.startswith("image "):
        tree, comment = None, f"custom kernel image {source[len('image '):]}"
    else:
        tree, comment = None, f"the running kernel of a ringcheck host ({source})"
    checkout = {
        "id": checkout_id,
        "origin": origin,
        "tree_name": tree,
        "comment": f"Linux {release}: {comment}",
        "start_time": start,
        "valid": True,
        "misc": {"kernel_release": release, "source": source,
                 "debian_package": package, "debian_package_version": package_version},
    }
    build = {
        "id": build_id,
        "checkout_id": checkout_id,
        "origin": origin,
        "comment": f"Linux {release} ({source})",
        "start_time": start,
        "architecture": "x86_64",
        "status": "PASS",
        "misc": {"kernel_release": release, "source": source,
                 "debian_package": package, "debian_package_version": package_version},
    }
    return checkout, build


def _environment(k):
    vm = k.get("vm")
    if vm:
        return {"comment": f"qemu guest ({vm.get('accel', '?')})",
                "misc": {"vm_status": vm.get("status"), "accel": vm.get("accel"), "rdma": vm.get("rdma")}}
    return {"comment": "host"}


def _test(k, t, origin, build_id, status=None):
    run = k.get("run") or {}
    verdict = t["verdict"]
    reason = t.get("reason") or ""
    misc = {
        "ringcheck_verdict": "MISS" if status == "MISS" else verdict,
        "binary": t["binary"],
        "test": t["name"],
        # Only well-formed rule ids (spec/README.md), whatever else a message held.
        "rules": [r for r in t.get("rules") or [] if spec_rules.RULE_ID.match(r)],
        "features": list(t.get("features") or []),
        "skip_reason": reason if verdict == "SKIP" else None,
        "expectation": t.get("expectation") or None,
        "expectation_reason": reason if verdict in ("XFAIL", "XPASS") else None,
        "message": (t.get("messages") or [None])[0],
        "ringcheck_commit": run.get("ringcheck_commit"),
    }
    log = "\n".join((t.get("messages") or []) + (t.get("kernel_log") or []))
    return {
        "id": f"{origin}:test-{_digest(build_id, run.get('ringcheck_commit', ''), t['binary'], t['name'])}",
        "build_id": build_id,
        "origin": origin,
        "path": test_path(t["binary"], t["name"]),
        "status": status or STATUS[verdict],
        "waived": True if verdict == "XFAIL" and status is None else None,
        "start_time": run.get("started"),
        "duration": (t.get("duration_ms") or 0) / 1000.0 if status is None else None,
        "environment": _environment(k),
        "log_excerpt": log[:LOG_EXCERPT_MAX] or None,
        "comment": reason or None,
        "misc": misc,
    }


def _never_ran(t):
    return t["verdict"] == "ERROR" and t["name"] == t["binary"] and any(
        "never ran" in m for m in t.get("messages") or [])


def document(report, origin="ringcheck"):
    """The KCIDB v5 document for a report.json (report.py build())."""
    check_origin(origin)
    # The tests of each binary seen on any kernel, so a binary a guest never
    # reached gives one MISS per test it would have run.
    by_binary = {}
    for row in report.get("tests", []):
        by_binary.setdefault(row["binary"], []).append(row["name"])
    checkouts, builds, tests = [], [], []
    for k in report["kernels"]:
        checkout, build = _kernel_objects(k, origin)
        if checkout["id"] not in {c["id"] for c in checkouts}:
            checkouts.append(checkout)
        if build["id"] not in {b["id"] for b in builds}:
            builds.append(build)
        for t in k["tests"]:
            if _never_ran(t):
                names = [n for n in by_binary.get(t["binary"], []) if n != t["binary"]] or [t["binary"]]
                for name in names:
                    tests.append(_test(k, dict(t, name=name), origin, build["id"], status="MISS"))
            else:
                tests.append(_test(k, t, origin, build["id"]))
    # Two inputs of the same kernel and tree: the later one wins, as a
    # resubmission would.
    unique = {}
    for t in tests:
        unique[t["id"]] = t
    return _clean({"version": {"major": 5, "minor": 0}, "checkouts": checkouts, "builds": builds,
                   "tests": list(unique.values())})
