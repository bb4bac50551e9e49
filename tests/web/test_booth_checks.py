"""The booth's own check of a consultation ballot (`checkSelections` in web/src/proto.js, run in
Node on the real module) agrees with the server's (`rules/ballot.py`) on every kind: scale,
ranking and open answers, `required`, the skip — the same cases, the same verdict (issue 18
item 5). A booth that let through what the tally refuses would cast an invalid ballot; one that
refused what the tally accepts would keep a voter from an answer."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from rules.ballot import validate_ballot
from tests.realserver import ROOT
from tests.web.conftest import in_ci

DEFINITION: dict[str, Any] = {
    "group": "all",
    "questions": [
        {"id": "s", "text": "S", "rule": "scale", "scale_min": -2, "scale_max": 2,
         "min_label": "oneens", "max_label": "eens", "required": True},
        {"id": "r", "text": "R", "rule": "ranking",
         "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}]},
        {"id": "o", "text": "O", "rule": "open", "max_length": 3},
        {"id": "y", "text": "Y", "rule": "yes_no_abstain",
         "options": [{"id": "yes"}, {"id": "no"}, {"id": "abstain"}]},
    ],
}  # fmt: skip
CASES: list[Any] = [
    {},
    {"s": [], "r": [], "o": []},
    {"s": [0]},
    {"s": [-2], "r": ["c", "a", "b"], "o": ["a\nb"], "y": ["no"]},
    {"r": ["a"]},  # the required scale blank, not a skip
    {"s": [3]},
    {"s": [-3]},
    {"s": [1, 2]},
    {"s": [1.5]},
    {"s": [True]},
    {"s": ["1"]},
    {"s": [1], "r": ["a", "a"]},
    {"s": [1], "r": ["d"]},
    {"s": [1], "r": [1]},
    {"s": [1], "r": ["b"]},
    {"s": [1], "o": ["👍👍👍"]},
    {"s": [1], "o": ["abcd"]},
    {"s": [1], "o": [""]},
    {"s": [1], "o": ["a\tb"]},
    {"s": [1], "o": ["a\rb"]},
    {"s": [1], "o": ["\x7f"]},
    {"s": [1], "o": ["\x85"]},
    {"s": [1], "o": ["\ud800"]},
    {"s": [1], "o": ["a", "b"]},
    {"s": [1], "o": [7]},
    {"s": [1], "y": ["yes", "no"]},
    {"s": [1], "x": ["a"]},
    {"s": 1},
]

SCRIPT = """
import { checkSelections } from "./src/proto.js";
const { definition, cases } = JSON.parse(await new Promise((r) => {
  let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => r(s));
}));
console.log(JSON.stringify(cases.map((c) => {
  try { checkSelections(definition, c); return true; } catch (e) { return false; }
})));
"""


def test_the_booth_and_the_tally_agree_on_every_kind() -> None:
    web = ROOT / "web"
    if shutil.which("node") is None or not (web / "node_modules").is_dir():
        if in_ci():
            pytest.fail("node and web/node_modules (npm ci) are needed in CI")
        pytest.skip("node or web/node_modules missing: cd web && npm ci")
    # Python's json writes a lone surrogate as \\ud800, which JavaScript reads as one too.
    out = subprocess.run(
        ["node", "--input-type=module", "-e", SCRIPT],
        cwd=web,
        input=json.dumps({"definition": DEFINITION, "cases": CASES}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    booth = json.loads(out.stdout)
    server = [
        validate_ballot(DEFINITION, "e", "all", {"election": "e", "group": "all", "selections": c})[
            0
        ]
        for c in CASES
    ]
    assert booth == server
    # Both sides accept and refuse: the cases are not all one verdict.
    assert 5 <= server.count(True) < len(CASES) - 10
