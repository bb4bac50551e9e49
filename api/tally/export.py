"""The aggregate counts of a consultation as rows, for a spreadsheet (CSV) or a script (JSON).

Why a separate export: the ``result`` entry is nested per kind and exact (fractions as
``p/q``); a works council that wants a chart of its own wants one flat table. The rows are
derived from the published ``result`` entry only (nothing the public cannot recompute), and hold
counts, never an open answer's text: the texts are on the results page and in the result entry,
sorted, and exporting them per group row would invite breaking them down by group.

One row: ``scope`` (``total``, a kiesgroep id shown on its own, or ``other``), ``question``,
``rule``, ``item`` (an option id, a scale point, ``a>b`` for a pairwise count, or empty),
``measure`` and ``value`` (an integer or an exact fraction ``p/q`` as text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

COLUMNS = ("scope", "question", "rule", "item", "measure", "value")


def rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """The rows of a consultation's ``result`` entry (``[]`` for a works council)."""
    c = result.get("consultation")
    if not c:
        return []
    out: list[dict[str, str]] = []
    scopes: list[tuple[str, dict[str, Any]]] = [("total", c)]
    scopes += [(g["group"], g) for g in c.get("groups") or []]
    if c.get("other"):
        scopes.append(("other", c["other"]))
    for scope, part in scopes:
        b = part["ballots"]
        for m in ("total", "valid", "invalid", "skipped"):
            out.append(_row(scope, "", "", "", f"ballots_{m}", b.get(m, 0)))
        for q in part["questions"]:
            out.extend(_question_rows(scope, q))
    return out


def _row(scope: str, q: str, rule: str, item: Any, measure: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):  # an exact fraction of rules.apportionment.fraction_json
        value = value["value"]
    return dict(
        zip(
            COLUMNS,
            (scope, q, rule, str(item), measure, "" if value is None else str(value)),
            strict=True,
        )
    )


def _question_rows(scope: str, q: dict[str, Any]) -> Iterator[dict[str, str]]:
    qid, rule = q["question"], q["rule"]
    yield _row(scope, qid, rule, "", "answered", q["answered"])
    yield _row(scope, qid, rule, "", "blank", q["blank"])
    if rule == "scale":
        for p in q["points"]:
            yield _row(scope, qid, rule, p["point"], "count", p["count"])
        yield _row(scope, qid, rule, "", "mean", q["mean"])
        yield _row(scope, qid, rule, "", "median", q["median"])
    elif rule == "ranking":
        ids = [o["option"] for o in q["options"]]
        for o in q["options"]:
            for m in ("borda", "rank", "first"):
                yield _row(scope, qid, rule, o["option"], m, o[m])
        for row in q["pairwise"]:
            for other, v in zip(ids, row["prefer"], strict=True):
                if v is not None:
                    yield _row(scope, qid, rule, f"{row['option']}>{other}", "prefer", v)
        yield _row(scope, qid, rule, "", "condorcet_winner", q["condorcet_winner"])
    elif rule != "open":
        for o in q["options"]:
            yield _row(scope, qid, rule, o["option"], "count", o["count"])
            yield _row(scope, qid, rule, o["option"], "share", o["share"])


def to_csv(result: dict[str, Any]) -> str:
    """The rows as CSV with a header line (RFC 4180, CRLF). Every cell is an id the committee
    chose (a slug), a number or a fraction: nothing a spreadsheet would run as a formula."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows(result))
    return buf.getvalue()
