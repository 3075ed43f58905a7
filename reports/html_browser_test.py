#!/usr/bin/env python3
"""report.html in a real browser (headless Chromium, Debian's `chromium`):
the filter box hides what does not match, the page needs nothing from the
network, and a screenshot of a filtered five-kernel report is saved
(report-filtered.png in $TEST_UNDECLARED_OUTPUTS_DIR under Bazel).

    python3 html_browser_test.py
"""

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kcidb_test import five_kernels  # noqa: E402

REPORT = os.path.join(HERE, "report.py")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(profile, *args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
           "--window-size=1400,1000", *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
    return p.returncode, p.stdout, p.stderr


@unittest.skipUnless(CHROMIUM, "chromium is not installed (apt-get install chromium)")
class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="html-test.", dir=os.environ.get("TEST_TMPDIR"))
        dirs = five_kernels(cls.root)
        cls.out = os.path.join(cls.root, "report")
        subprocess.run([sys.executable, REPORT, *dirs, "--out", cls.out], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.page = "file://" + os.path.join(cls.out, "report.html")
        cls.profile = os.path.join(cls.root, "profile")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def visible_rows(self, fragment):
        """The names of the test rows the page shows after loading with #fragment."""
        rc, dom, err = chromium(self.profile, "--dump-dom", f"{self.page}#{fragment}")
        self.assertEqual(rc, 0, err[-1500:])
        rows = re.findall(r'<tr class="t"([^>]*)>\s*<td><code>([^<]*)</code>', dom)
        self.assertTrue(rows, "no test rows in the DOM")
        count = re.search(r'<span id="filter-count">([^<]*)</span>', dom)
        return [html.unescape(name) for attrs, name in rows if "hidden" not in attrs], count.group(1) if count else ""

    def test_unfiltered_shows_every_test(self):
        shown, count = self.visible_rows("")
        self.assertEqual(len(shown), 6)
        self.assertEqual(count, "6 tests")

    def test_filters(self):
        cases = {
            "verdict=FAIL": ["Nop.Fails"],
            "verdict=XFAIL": ["AllRings/Nop.OneCqePerSqe/sqpoll"],
            "rule=F1": ["Verbs.Fork"],
            "suite=nop_test&verdict=ERROR": ["Nop.Crashes"],
            "q=crashes": ["Nop.Crashes"],
            "feature=op_nop": ["AllRings/Nop.OneCqePerSqe/sqpoll"],
        }
        for fragment, want in cases.items():
            shown, count = self.visible_rows(fragment)
            self.assertEqual(sorted(shown), sorted(want), fragment)
            self.assertEqual(count, f"{len(want)} of 6 tests match", fragment)

    def test_screenshot_of_a_filtered_report(self):
        out = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or self.root
        shot = os.path.join(out, "report-filtered.png")
        rc, _, err = chromium(self.profile, f"--screenshot={shot}", f"{self.page}#verdict=FAIL")
        self.assertEqual(rc, 0, err[-1500:])
        with open(shot, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 4000, "a blank page")
        print(f"screenshot: {shot}", file=sys.stderr)

    def test_rule_ids_link_to_their_text(self):
        with open(os.path.join(self.out, "report.html")) as f:
            page = f.read()
        for target in re.findall(r'href="#(rule-[^"]+)"', page):
            self.assertIn(f'id="{target}"', page)
        self.assertIn("<svg", page)
        self.assertIn('id="chart-verdicts"', page)
        self.assertIn('id="chart-features"', page)


if __name__ == "__main__":
    unittest.main()
