"""The rules of spec/*.md, read one way for every tool.

A rule is a row of a Markdown table whose first cell is a rule id: a
capital letter and a number ("C5", "G12"), or a section and a CQE flag
("D.1:F_BUFFER"). The rest of the row (behaviour, source, versions) is the
rule's text. See spec/README.md for the format.
"""

import os
import re

RULE_ID_PATTERN = r"[A-Z]\d+|[A-Z]\.\d+:F_\w+"
RULE_ROW = re.compile(r"^\|\s*(" + RULE_ID_PATTERN + r")\s*\|(.*)\|\s*$")
RULE_ID = re.compile(r"^(?:" + RULE_ID_PATTERN + r")$")


class Rule:
    def __init__(self, rule_id, cells, path, line):
        self.id = rule_id
        self.cells = cells
        self.path = path
        self.line = line

    @property
    def text(self):
        """The row's cells after the id, joined: what the rule says."""
        return " | ".join(c for c in self.cells if c)

    def short(self, width=160):
        flat = re.sub(r"\s+", " ", self.text.replace("`", ""))
        return flat if len(flat) <= width else flat[: width - 1] + "…"


def read_spec(spec_dir):
    """rule id -> Rule, for every rule in spec_dir/*.md. Raises ValueError
    when an id is defined twice."""
    rules = {}
    for name in sorted(os.listdir(spec_dir)):
        if not name.endswith(".md") or name == "README.md":
            continue
        path = os.path.join(spec_dir, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = RULE_ROW.match(line)
                if not m:
                    continue
                rule_id = m.group(1)
                cells = [c.strip() for c in m.group(2).split("|")]
                if rule_id in rules:
                    first = rules[rule_id]
                    raise ValueError(f"{name}:{number}: rule {rule_id} is already defined at "
                                     f"{os.path.basename(first.path)}:{first.line}")
                rules[rule_id] = Rule(rule_id, cells, name, number)
    return rules


def find_spec_dir(start):
    """spec/ next to or above `start` (a results tool may run anywhere in the tree)."""
    d = os.path.abspath(start)
    while True:
        candidate = os.path.join(d, "spec")
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent
