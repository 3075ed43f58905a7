"""report.html: one self-contained page (inline CSS, SVG and script, no network).

Top to bottom: a summary line per kernel with two inline-SVG charts (the
verdicts per kernel; the features each kernel supports), the feature x
kernel matrix, a card per failure, the known deviations, the text of every
rule named, where probes disagree with the version table, the test matrix
per suite and per rule (with a search and filter box: suite, verdict, rule,
feature, free text; the filter is kept in the address's #fragment, e.g.
report.html#verdict=FAIL&rule=N1), then each kernel's health, guest and
fuzzing details. Every rule id links to its text. Without script the page
shows everything.
"""

import html

import fuzz_view
import matrix
import results

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d232a;max-width:1500px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px} .muted{color:#66707a} code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse} th,td{padding:3px 7px;border:1px solid #e1e5ea;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600} td.n{text-align:right;font-variant-numeric:tabular-nums}
.c{text-align:center;white-space:nowrap;min-width:46px;font-size:12px;font-weight:600}
.supported,.PASS{background:#e3f4e5;color:#1e6b2a} .unsupported,.SKIP{background:#f1f2f4;color:#8a939c;font-weight:400}
.unknown{background:#fff;color:#b0b7be} .FAIL{background:#c62828;color:#fff} .XFAIL{background:#ffe0b2;color:#8a4b00}
.ERROR{background:#5e1f7a;color:#fff} .backport{box-shadow:inset 0 0 0 2px #1565c0} .missing{box-shadow:inset 0 0 0 2px #c62828}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start} .grid table td:first-child{font-family:ui-monospace,monospace;font-size:12px}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border-radius:3px;font-size:12px}
.card{border:1px solid #e1e5ea;border-left:6px solid #c62828;border-radius:4px;padding:8px 12px;margin:10px 0;background:#fff}
.card.v-XFAIL{border-left-color:#ef8f00} .card.v-ERROR{border-left-color:#5e1f7a} .card.v-XPASS{border-left-color:#ad1457}
.untested{color:#9a6700} .XPASS{background:#ad1457;color:#fff}
.card h3{margin:0 0 6px;font-family:ui-monospace,monospace;font-size:13px} .card dl{margin:0;display:grid;grid-template-columns:130px 1fr;gap:2px 10px}
.card dt{color:#66707a} .card dd{margin:0} .chip{display:inline-block;padding:0 6px;margin:1px 3px 1px 0;border-radius:3px;font-size:12px}
pre{background:#f6f8fa;border:1px solid #e1e5ea;padding:6px 8px;overflow-x:auto;margin:4px 0;white-space:pre-wrap}
details{margin:4px 0} summary{cursor:pointer;padding:3px 0} summary b{font-family:ui-monospace,monospace}
.red{color:#c62828;font-weight:600} .ok{color:#1e6b2a;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:24px;margin:10px 0} .charts figure{margin:0} .charts figcaption{font-size:12px;color:#66707a}
.filter{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #e1e5ea;z-index:1;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.filter input,.filter select{font:13px system-ui,sans-serif;padding:3px 6px;border:1px solid #c4cbd3;border-radius:4px}
.filter input[type=search]{min-width:260px} #filter-count{color:#66707a;font-size:12px}
a{color:#1456a8;text-decoration:none} a:hover{text-decoration:underline}
body.filtered section.full{display:none} #filter-note{display:none;color:#66707a;font-size:12px} body.filtered #filter-note{display:inline}
"""

# Chart colours per verdict (the matrix's colours, solid for bars).
BAR = {"PASS": "#43a047", "FAIL": "#c62828", "SKIP": "#b0b7be", "XFAIL": "#ef8f00", "XPASS": "#ad1457",
       "ERROR": "#5e1f7a"}

# The filter: hides test rows that do not match, opens the suites that do,
# and keeps the filter in the address's fragment.
SCRIPT = r"""
(function () {
  var fields = ["q", "suite", "verdict", "rule", "feature"];
  function el(f) { return document.getElementById("filter-" + f); }
  function read() {
    var v = {};
    fields.forEach(function (f) { v[f] = (el(f).value || "").trim(); });
    return v;
  }
  function has(list, want) {
    return !want || (" " + list + " ").indexOf(" " + want + " ") >= 0;
  }
  function apply() {
    var v = read(), active = fields.some(function (f) { return v[f]; });
    document.body.classList.toggle("filtered", active);
    var rows = document.querySelectorAll("tr.t"), shown = 0;
    rows.forEach(function (r) {
      var ok = (!v.suite || r.dataset.suite === v.suite) && has(r.dataset.verdicts, v.verdict) &&
               has(r.dataset.rules, v.rule) && has(r.dataset.features, v.feature) &&
               (!v.q || r.textContent.toLowerCase().indexOf(v.q.toLowerCase()) >= 0 ||
                r.dataset.rules.toLowerCase().indexOf(v.q.toLowerCase()) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    document.querySelectorAll("details.suite").forEach(function (d) {
      var any = d.querySelector("tr.t:not([hidden])") !== null;
      d.hidden = active && !any;
      if (active) d.open = any; else d.open = d.dataset.bad === "1";
    });
    document.querySelectorAll("tr.rule-row").forEach(function (r) {
      r.hidden = !!v.rule && r.dataset.rule !== v.rule;
    });
    el("count").textContent = active ? shown + " of " + rows.length + " tests match" : rows.length + " tests";
    var frag = fields.filter(function (f) { return v[f]; })
                     .map(function (f) { return f + "=" + encodeURIComponent(v[f]); }).join("&");
    if (("#" + frag) !== location.hash && !(frag === "" && location.hash === "")) {
      history.replaceState(null, "", frag ? "#" + frag : location.pathname);
    }
  }
  function fromHash() {
    var h = location.hash.replace(/^#/, "");
    if (!h || h.indexOf("=") < 0) return;
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="), f = kv.slice(0, i), val = decodeURIComponent(kv.slice(i + 1));
      if (fields.indexOf(f) >= 0) el(f).value = val;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("filter").hidden = false;
    fromHash();
    fields.forEach(function (f) { el(f).addEventListener("input", apply); el(f).addEventListener("change", apply); });
    el("clear").addEventListener("click", function () { fields.forEach(function (f) { el(f).value = ""; }); apply(); });
    apply();
    // A filtered link opens at the matching tests.
    document.querySelectorAll("a[href^='#rule-']").forEach(function (a) {
      a.addEventListener("click", function () { document.body.classList.remove("filtered"); });
    });
  });
})();
"""

SYMBOL = {"supported": "\u2713", "unsupported": "\u2013", "unknown": "?", "FAIL": "FAIL", "XFAIL": "XFAIL",
          "XPASS": "XPASS", "ERROR": "ERROR", "PASS": "P", "SKIP": "S"}
BAD = ("FAIL", "ERROR", "XFAIL", "XPASS")


def e(text):
    return html.escape(str(text), quote=True)


def label(k):
    """Column title: debian:6.1 for Debian kernels, else the release."""
    src = k["source"] or ""
    return src.split(" ", 1)[0] if src.startswith("debian:") else k["release"]


def cell(state, title="", extra="", text=None):
    return f'<td class="c {e(state)} {extra}" title="{e(title)}">{e(SYMBOL.get(state, state) if text is None else text)}</td>'


def chip(kernel_label, verdict, title=""):
    return f'<span class="chip {e(verdict)}" title="{e(title)}">{e(kernel_label)}: {e(verdict)}</span>'


def _head(report, kernels):
    return [f"<h1>ringcheck report</h1><div class=muted>Generated {e(report['generated'])}; "
            f"{len(kernels)} kernel{'s' if len(kernels) != 1 else ''}.</div>"]


def _summary(kernels):
    out = ["<h2 id=summary>Summary</h2><table><tr><th>kernel</th><th>release</th><th>source</th><th>total</th>"
           + "".join(f"<th>{v}</th>" for v in results.VERDICTS) + "<th>health</th><th>guest</th></tr>"]
    for k in kernels:
        s, vm = k["summary"], k.get("vm") or {}
        guest = (f"{e(vm['status'])}, {e(vm.get('wall_s'))} s" if vm else "host")
        cls = "ok" if not vm or vm.get("status") == "ok" else "red"
        out.append(f"<tr><td><b>{e(label(k))}</b></td><td>{e(k['release'])}</td><td>{e(k['source'])}</td>"
                   f"<td class=n>{s['total']}</td>"
                   + "".join(f'<td class="n {v if s[v] and v in BAD else ""}">{s[v]}</td>'
                             for v in results.VERDICTS)
                   + f"<td class={'red' if k['health']['red'] else 'ok'}>{'RED' if k['health']['red'] else 'clean'}</td>"
                   f"<td class={cls}>{guest}</td></tr>")
    return out + ["</table>", '<div class=charts>', _verdict_chart(kernels), _feature_chart(kernels), "</div>"]


def _verdict_chart(kernels):
    """One horizontal bar per kernel, split by verdict, as inline SVG."""
    row_h, left, width = 24, 150, 460
    height = 30 + row_h * len(kernels)
    out = [f'<figure><svg width="{left + width + 60}" height="{height}" '
           f'role="img" aria-label="verdicts per kernel" id="chart-verdicts">']
    x = left
    for v in results.VERDICTS:  # the legend
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{BAR[v]}"/>'
                   f'<text x="{x + 13}" y="13" font-size="11">{v}</text>')
        x += 70
    for i, k in enumerate(kernels):
        s, y = k["summary"], 24 + i * row_h
        total = max(s["total"], 1)
        out.append(f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">{e(label(k))}</text>')
        x = float(left)
        for v in results.VERDICTS:
            if not s[v]:
                continue
            w = width * s[v] / total
            out.append(f'<rect class="bar-{v}" x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{row_h - 6}" '
                       f'fill="{BAR[v]}"><title>{e(label(k))}: {s[v]} {v}</title></rect>')
            x += w
        out.append(f'<text x="{left + width + 6}" y="{y + 14}" font-size="11" fill="#66707a">{s["total"]}</text>')
    out.append("</svg><figcaption>Verdicts per kernel (hover a segment for its count)</figcaption></figure>")
    return "".join(out)


def _feature_chart(kernels):
    """Features the probe finds per kernel, oldest first, as inline SVG columns."""
    counts = []
    for k in kernels:
        feats = (k["capabilities"] or {}).get("features", [])
        counts.append((k, sum(1 for f in feats if f.get("supported")), len(feats)))
    top = max([c[2] for c in counts] + [1])
    col, gap, base = 64, 36, 150
    out = [f'<figure><svg width="{40 + (col + gap) * len(kernels)}" '
           f'height="{base + 22}" role="img" aria-label="features supported per kernel" id="chart-features">',
           f'<line x1="30" y1="{base}" x2="{30 + (col + gap) * len(kernels)}" y2="{base}" stroke="#c4cbd3"/>']
    for i, (k, supported, total) in enumerate(counts):
        x = 36 + i * (col + gap)
        h_all = (base - 20) * total / top
        h = (base - 20) * supported / top
        out.append(f'<rect x="{x}" y="{base - h_all:.1f}" width="{col}" height="{h_all:.1f}" fill="#f1f2f4"/>'
                   f'<rect class="feat-bar" x="{x}" y="{base - h:.1f}" width="{col}" height="{h:.1f}" fill="#1565c0">'
                   f'<title>{e(label(k))} ({e(k["release"])}): {supported} of {total} features</title></rect>'
                   f'<text x="{x + col / 2}" y="{base - h - 4:.1f}" font-size="11" text-anchor="middle">{supported}</text>'
                   f'<text x="{x + col / 2}" y="{base + 14}" font-size="11" text-anchor="middle">{e(label(k))}</text>')
    out.append("</svg><figcaption>Features supported per kernel version (of those probed)</figcaption></figure>")
    return "".join(out)


def _features(report, kernels):
    marks = {(d["kernel"], d["feature"]): d for d in report["disagreements"]}
    groups = {}
    for r in report["features"]:
        groups.setdefault(r["group"], []).append(r)
    head = "<tr><th>feature</th><th>since</th>" + "".join(
        f'<th class=c title="{e(k["release"])}">{e(label(k))}</th>' for k in kernels) + "</tr>"
    out = ["<h2 id=features>Features &times; kernels</h2>",
           '<div class="legend muted">' + "".join(
               f'<span class="{s}">{SYMBOL[s] + " " if SYMBOL[s] != s else ""}{s}</span>'
               for s in ("supported", "unsupported", "FAIL", "XPASS", "XFAIL", "ERROR"))
           + '<span class="backport">backport</span><span class="missing">missing</span>'
             " (probe against the mainline version). A feature shows FAIL/XPASS/XFAIL/ERROR when a test that "
             "exercises it did; a supported feature no test exercised reads \u2713? (untested); hover a cell "
             "for its test counts.</div>",
           '<div class=grid>']
    for group, rows in groups.items():
        out.append(f"<table><tr><th colspan={2 + len(kernels)}>{e(group)}</th></tr>{head}")
        for r in rows:
            tds = []
            for k in kernels:
                c = r["cells"][k["id"]]
                d = marks.get((k["id"], r["id"]))
                title = f"{r['id']} on {k['release']}: {matrix.cell_text(c)}"
                if d:
                    title += f"; {d['kind']}: mainline {d['mainline']}"
                if c["tests"]:
                    title += "; " + ", ".join(c["tests"][:8])
                untested = c["state"] == "supported" and not c.get("tested", True)
                tds.append(cell(c["state"], title, (d["kind"] if d else "") + (" untested" if untested else ""),
                                text="\u2713?" if untested else None))
            out.append(f'<tr><td title="{e(r["what"])}">{e(r["id"])}</td><td class=muted>{e(r["mainline"])}</td>'
                       + "".join(tds) + "</tr>")
        out.append("</table>")
    return out + ["</div>"]


def rule_link(rule, texts):
    if rule in texts:
        return f'<a href="#rule-{e(rule)}" title="{e(texts[rule]["text"])}">{e(rule)}</a>'
    return e(rule)


def _rules_text(report):
    """The text of every rule the report names (tests, failures, uncovered entries)."""
    texts = report.get("rule_texts", {})
    out = ["<h2 id=rules>Rules named in this report</h2>"]
    if not texts:
        return out + ["<p class=muted>None (or spec/ was not found next to the report tool).</p>"]
    uncovered = {u["rule"]: u for u in report.get("uncovered", [])}
    out.append("<table><tr><th>rule</th><th>text</th><th>where</th></tr>")
    for rule, t in texts.items():
        note = f"<br><span class=muted>not shown here: {e(uncovered[rule]['reason'])}</span>" if rule in uncovered else ""
        out.append(f'<tr id="rule-{e(rule)}"><td><code>{e(rule)}</code></td><td>{e(t["text"])}{note}</td>'
                   f"<td class=muted>{e(t['file'])}:{e(t['line'])}</td></tr>")
    return out + ["</table>"]


def _cards(cards, title, anchor, labels, empty, texts=None):
    texts = texts or {}
    out = [f"<h2 id={e(anchor)}>{e(title)}</h2>"]
    if not cards:
        return out + [f"<p class=muted>{e(empty)}</p>"]
    for c in cards:
        verdict = max((a["verdict"] for a in c["affected"]), key=lambda v: matrix.SEVERITY.get(v, 0))
        out.append(f'<div class="card v-{e(verdict)}"><h3>{e(c["name"])} <span class=muted>({e(c["binary"])})</span></h3><dl>')
        rules = c["rules"] or ([c["rule"]] if c["rule"] else [])
        out.append("<dt>rule</dt><dd>" + (", ".join(rule_link(r, texts) for r in rules) or "-") + "</dd>")
        if c["reason"]:
            out.append(f"<dt>reason</dt><dd>{e(c['reason'])}</dd>")
        if c["expected"] or c["actual"]:
            out.append(f"<dt>expected</dt><dd><code>{e(c['expected'] or '-')}</code></dd>"
                       f"<dt>actual</dt><dd><code>{e(c['actual'] or '-')}</code></dd>")
        out.append("<dt>affected</dt><dd>" + "".join(
            chip(labels[a["kernel"]], a["verdict"], a["message"]) for a in c["affected"]) + "</dd>")
        if c["not_affected"]:
            out.append("<dt>not affected</dt><dd>" + "".join(
                chip(labels[a["kernel"]], a["verdict"], a.get("reason", "")) for a in c["not_affected"]) + "</dd>")
        out.append("</dl>")
        log = ([c["message"]] if c["message"] else []) + c["log"]
        if log:
            out.append("<pre>" + e("\n".join(log[:30])) + "</pre>")
        out.append("</div>")
    return out


def _disagreements(report, labels):
    out = ["<h2 id=disagreements>Probe versus version table</h2>"]
    if not report["disagreements"]:
        return out + ["<p class=muted>Every probe agrees with the mainline version of its kernel.</p>"]
    out.append("<p class=muted>Backport: the release is older than the mainline version that introduced the "
               "feature, yet the probe finds it. Missing: the release is new enough, yet the probe does not.</p>")
    per = {}
    for d in report["disagreements"]:
        per.setdefault((d["kernel"], d["kind"]), []).append(d)
    out.append("<table><tr><th>kernel</th><th>kind</th><th>features (mainline)</th></tr>")
    for (kid, kind), ds in per.items():
        out.append(f"<tr><td>{e(labels[kid])}</td><td class={'ok' if kind == 'backport' else 'red'}>{e(kind)} "
                   f"({len(ds)})</td><td>" + ", ".join(
                       f'<code title="{e(d["what"])}">{e(d["feature"])}</code> ({e(d["mainline"])})' for d in ds)
                   + "</td></tr>")
    return out + ["</table>"]


def _filter_box(report, kernels, by_binary, features):
    rules = sorted({r for row in report["tests"] for r in row["rules"]})
    opts = lambda xs: "".join(f"<option value=\"{e(x)}\">{e(x)}</option>" for x in xs)
    return ('<form id=filter class=filter hidden onsubmit="return false">'
            '<input type=search id=filter-q placeholder="search tests, reasons, rules" aria-label="search">'
            '<select id=filter-suite aria-label="suite"><option value="">every suite</option>'
            + opts(by_binary) + "</select>"
            '<select id=filter-verdict aria-label="verdict"><option value="">any verdict</option>'
            + opts(results.VERDICTS) + "</select>"
            '<input id=filter-rule list=rule-ids placeholder="rule id" size=10 aria-label="rule">'
            f"<datalist id=rule-ids>{opts(rules)}</datalist>"
            '<input id=filter-feature list=feature-ids placeholder="feature" size=18 aria-label="feature">'
            f"<datalist id=feature-ids>{opts(sorted(features))}</datalist>"
            "<button type=button id=filter-clear>clear</button><span id=filter-count></span>"
            "<span id=filter-note>(the other sections hide while a filter is active)</span></form>")


def _test_features(kernels):
    """(binary, name) -> the features the test exercised on any kernel."""
    out = {}
    for k in kernels:
        for t in k["tests"]:
            out.setdefault((t["binary"], t["name"]), set()).update(t.get("features") or [])
    return out


def _tests(report, kernels):
    by_binary = {}
    for r in report["tests"]:
        by_binary.setdefault(r["binary"], []).append(r)
    texts = report.get("rule_texts", {})
    features = _test_features(kernels)
    head = "<tr><th>test</th><th>rules</th>" + "".join(f"<th class=c>{e(label(k))}</th>" for k in kernels) + "</tr>"
    out = ["<h2 id=tests>Tests &times; kernels</h2><p class=muted>P pass, S skip (hover for the reason); "
           "suites with a FAIL or ERROR are open. Filter by suite, verdict, rule or feature:</p>",
           _filter_box(report, kernels, by_binary, set().union(*features.values()) if features else set())]
    for binary, rows in by_binary.items():
        counts = []
        bad = False
        for k in kernels:
            c = k["suites"].get(binary)
            if c is None:
                counts.append(f'<span class="chip unknown">{e(label(k))}: not run</span>')
                continue
            bad = bad or any(c.get(v) for v in results.FAILING)
            text = " ".join(f"{c[v]} {v}" for v in results.VERDICTS if c.get(v))
            worst = next((v for v in ("ERROR", "FAIL", "XPASS", "XFAIL") if c.get(v)), "PASS")
            counts.append(f'<span class="chip {worst}">{e(label(k))}: {e(text)}</span>')
        out.append(f"<details class=suite data-suite=\"{e(binary)}\" data-bad=\"{1 if bad else 0}\"{' open' if bad else ''}>"
                   f"<summary><b>{e(binary)}</b> {len(rows)} tests &nbsp; "
                   + "".join(counts) + f"</summary><table>{head}")
        for r in rows:
            tds = []
            verdicts = set()
            for k in kernels:
                c = r["cells"].get(k["id"])
                tds.append(cell(c["verdict"], c["reason"]) if c else cell("unknown", "not run", text="\u00b7"))
                if c:
                    verdicts.add(c["verdict"])
            feats = " ".join(sorted(features.get((binary, r["name"]), ())))
            out.append(f'<tr class=t data-suite="{e(binary)}" data-verdicts="{e(" ".join(sorted(verdicts)))}" '
                       f'data-rules="{e(" ".join(r["rules"]))}" data-features="{e(feats)}">'
                       f"<td><code>{e(r['name'])}</code></td><td class=muted>"
                       + " ".join(rule_link(x, texts) for x in r["rules"]) + "</td>"
                       + "".join(tds) + "</tr>")
        out.append("</table></details>")
    if report["rules"]:
        out.append("<h3>Rules &times; kernels</h3><p class=muted>The worst verdict of the tests that name each "
                   "rule (spec/*.md).</p><table><tr><th>rule</th>"
                   + "".join(f"<th class=c>{e(label(k))}</th>" for k in kernels) + "</tr>")
        for rule, cells in report["rules"].items():
            out.append(f'<tr class=rule-row data-rule="{e(rule)}"><td><code>{rule_link(rule, texts)}</code></td>' + "".join(
                cell(cells.get(k["id"]) or "unknown", text=cells.get(k["id"]) or "\u00b7") for k in kernels) + "</tr>")
        out.append("</table>")
    return out


def _kernel_details(kernels):
    out = ["<h2 id=kernels>Kernels</h2><table><tr><th>kernel</th><th>liburing</th><th>features</th><th>last op</th>"
           "<th>taint</th><th>guest</th><th>timings</th><th>soft-RoCE</th><th>kernel log</th></tr>"]
    for k in kernels:
        caps, h, vm = k["capabilities"] or {}, k["health"], k.get("vm")
        taint = "unreadable" if h["taint_before"] is None else f"{h['taint_before']} \u2192 {h['taint_after']}"
        guest = (f"{e(vm['status'])} ({e(vm.get('accel'))})" + (f"<br><span class=red>{e(vm['message'])}</span>"
                                                              if vm.get("message") else "")) if vm else "host"
        timings = (f"userspace {vm.get('until_userspace_s')} s, tests {vm.get('tests_s')} s, "
                   f"overhead {vm.get('overhead_s')} s" if vm else f"{k['run'].get('duration_ms', 0) / 1000:.1f} s")
        problems = "<br>".join(f"<code>{e(p)}</code>" for p in h["problems"][:10]) or "clean"
        out.append(f"<tr><td><b>{e(label(k))}</b><br><span class=muted>{e(k['release'])}</span></td>"
                   f"<td>{e(caps.get('liburing', '?'))}</td><td>{e(caps.get('features_mask', '?'))}</td>"
                   f"<td>{e(caps.get('last_op', '?'))}</td><td>{e(taint)}</td><td>{guest}</td><td>{e(timings)}</td>"
                   f"<td>{e(_rdma(vm))}</td><td>{problems}</td></tr>")
    out.append("</table>")
    for k in kernels:
        vm = k.get("vm")
        if vm and vm.get("console_excerpt"):
            out.append(f"<h3>{e(label(k))}: console</h3><pre>" + e("\n".join(vm["console_excerpt"])) + "</pre>")
    return out


def _rdma(vm):
    """The guest's soft-RoCE outcome, from the last line of its logs/rdma.log."""
    if not vm:
        return "not tried (host)"
    text = (vm.get("rdma") or "not attempted").removeprefix("rdma: ")
    return text.replace("devices", "device", 1) if text.startswith("devices") else text


def _fuzz(kernels):
    with_fuzz = [k for k in kernels if k.get("fuzz")]
    if not with_fuzz:
        return []
    out = ["<h2 id=fuzzing>Fuzzing</h2>"]
    for k in with_fuzz:
        fz = k["fuzz"]
        out.append(f"<h3>{e(label(k))} <span class=muted>{e(fz.get('schema', ''))}</span></h3>")
        if fz.get("error"):
            out.append(f"<p class=red>{e(fz['error'])}</p>")
            continue
        targets = fz.get("targets") if isinstance(fz.get("targets"), list) else []
        if not targets:
            out.append("<pre>" + e(str({x: y for x, y in fz.items() if not isinstance(y, (list, dict))})) + "</pre>")
            continue
        keys = []
        for t in targets:
            keys += [x for x, y in t.items() if not isinstance(y, (list, dict)) and x not in keys]
        facts = [f"{x.replace('_', ' ')}: {fz[x]}" for x in ("started", "duration_s", "kernel",
                                                            "known_findings_stepped_around") if fz.get(x)]
        if facts:
            out.append(f"<p class=muted>{e('; '.join(facts))}</p>")
        out.append("<table><tr>" + "".join(f"<th>{e(x)}</th>" for x in keys) + "<th>crashes</th></tr>")
        crashes_all = []
        for t in targets:
            crashes = t.get("crashes", [])
            n = len(crashes) if isinstance(crashes, list) else crashes
            if isinstance(crashes, list):
                crashes_all += [(t.get("name", "?"), c) for c in crashes if isinstance(c, dict)]
            out.append("<tr>" + "".join(f"<td>{e(t.get(x, ''))}</td>" for x in keys)
                       + f"<td class={'red' if n else 'ok'}>{e(n)}</td></tr>")
        out.append("</table>")
        for target, c in crashes_all:
            out.append(f'<div class="card v-FAIL"><h3>{e(target)}: {e(c.get("id", "crash"))}</h3><dl>'
                       + "".join(f"<dt>{e(k)}</dt><dd><code>{e(v)}</code></dd>" for k, v in c.items() if k != "id")
                       + "</dl></div>")
        for f in fuzz_view.summary(fz)["kernel_findings"]:  # guest jobs: kernel panics, splats, hangs
            out.append(f'<div class="card v-ERROR"><h3>kernel: {e(f["id"])}</h3><p>{e(f["kind"])}: {e(f["title"])} '
                       f'<code>{e(f["frames"])}</code></p><p class=muted>reproduces on: {e(f["reproduces_on"])}</p></div>')
    return out


def render(report):
    kernels = report["kernels"]
    labels = {k["id"]: label(k) for k in kernels}
    # While a filter is active only the summary and the tests show (the
    # sections marked "full" hide); following a rule link shows all again.
    full = lambda parts: ["<section class=full>"] + parts + ["</section>"]
    body = (_head(report, kernels) + _summary(kernels) + full(
                _features(report, kernels)
                + _cards(report["failures"], "Failures, errors and stale expectations", "failures", labels,
                         "No test failed, errored or passed against its expectation.", report.get("rule_texts"))
                + _cards(report["known_deviations"], "Known deviations (XFAIL)", "xfail", labels, "None.",
                         report.get("rule_texts"))
                + _rules_text(report)
                + _disagreements(report, labels))
            + _tests(report, kernels) + full(_kernel_details(kernels) + _fuzz(kernels)))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>ringcheck report</title><style>{CSS}</style><script>{SCRIPT}</script></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
