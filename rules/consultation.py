"""Counting one consultation question of each kind (docs/rules.md "Consultations").

One accumulator per question: :meth:`QuestionTally.add` takes the answer of one valid ballot
(the list of :mod:`rules.ballot`; ``[]`` is blank), :meth:`QuestionTally.to_dict` gives the
question's part of the ``result`` entry. Exact arithmetic only (fractions, never floats), lists
in definition order, open answers sorted — so the server and the verifier produce the same
bytes, and the published order of open answers says nothing about the order of the ballots.

The rules, stated once here and in docs/rules.md:

* choices (``single``, ``up_to_k``, ``yes_no_abstain``): a count per option; the share is the
  count over the ballots that answered the question.
* ``scale``: a count per point, the mean and the median of the answers. The median of an even
  number of answers is the mean of the two middle ones (so it may fall between two points).
* ``ranking``: the Borda count — with ``n`` options, the option ranked ``i``-th (1-based) gets
  ``n - i`` points; an option a partial ranking leaves out gets 0 points, so every ranked option
  is preferred to every unranked one and the unranked ones are equal. The pairwise table
  counts for every ordered pair (a, b) the ballots that prefer a to b (a ranked above b, or a
  ranked and b left out). The Condorcet winner is the option that more ballots prefer to each
  other option than the reverse; there may be none. Ties are never broken (a consultation
  advises, nothing is allotted): ``borda_winners`` lists every option with the highest total,
  and ``rank`` is shared (1, 1, 3, …).
* ``open``: the answers, sorted by Unicode code point, each once per ballot that gave it.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

from rules.apportionment import fraction_json
from rules.ballot import QuestionDef


def percent_display(share: Fraction) -> str:
    """``share`` as a percentage with two decimals, rounded half up (exact, no floats)."""
    hundredths = share * 10000
    n = (hundredths.numerator * 2 + hundredths.denominator) // (2 * hundredths.denominator)
    return f"{n // 100}.{n % 100:02d}"


def _share(count: int, answered: int) -> dict[str, Any]:
    share = Fraction(count, answered) if answered else None
    return {
        "share": fraction_json(share),
        "percent": percent_display(share) if share is not None else None,
    }


def median(values: Counter[int]) -> Fraction | None:
    """The median of a multiset given as counts; of an even number, the mean of the middle two."""
    n = sum(values.values())
    if n == 0:
        return None
    lo_pos, hi_pos = (n - 1) // 2, n // 2  # 0-based positions of the middle element(s)
    lo = hi = None
    seen = 0
    for v in sorted(values):
        seen += values[v]
        if lo is None and seen > lo_pos:
            lo = v
        if seen > hi_pos:
            hi = v
            break
    assert lo is not None and hi is not None
    return Fraction(lo + hi, 2)


def pairwise(options: list[str], rankings: Counter[tuple[str, ...]]) -> dict[str, dict[str, int]]:
    """``d[a][b]``: the ballots that prefer a to b (a ranked above b, or b left out)."""
    d = {a: dict.fromkeys(options, 0) for a in options}
    for ranking, n in rankings.items():
        ranked = set()
        for a in ranking:
            ranked.add(a)
            for b in options:
                if b not in ranked:
                    d[a][b] += n
    return d


def borda(options: list[str], rankings: Counter[tuple[str, ...]]) -> dict[str, int]:
    """Borda points: ``n - i`` for the ``i``-th ranked of ``n`` options, 0 when left out."""
    n = len(options)
    points = dict.fromkeys(options, 0)
    for ranking, count in rankings.items():
        for i, a in enumerate(ranking, start=1):
            points[a] += (n - i) * count
    return points


def condorcet_winner(options: list[str], table: dict[str, dict[str, int]]) -> str | None:
    """The option that beats every other one pairwise (strictly), or ``None``."""
    for a in options:
        if all(table[a][b] > table[b][a] for b in options if b != a):
            return a
    return None


def shared_ranks(options: list[str], points: dict[str, int]) -> dict[str, int]:
    """Standard competition ranks (1, 1, 3) by descending points; ties share a rank."""
    return {a: 1 + sum(1 for b in options if points[b] > points[a]) for a in options}


class QuestionTally:
    """The count of one question over the valid ballots."""

    def __init__(self, question: QuestionDef) -> None:
        self.q = question
        self.answered = 0
        self.blank = 0
        self.counts: Counter[Any] = Counter()  # option ids, scale points, open texts
        self.rankings: Counter[tuple[str, ...]] = Counter()

    def add(self, answer: list[Any] | None, n: int = 1) -> None:
        if not answer:
            self.blank += n
            return
        self.answered += n
        if self.q.rule == "ranking":
            self.rankings[tuple(answer)] += n
        else:
            for a in answer:
                self.counts[a] += n

    def to_dict(self) -> dict[str, Any]:
        q = self.q
        head: dict[str, Any] = {
            "question": q.id,
            "rule": q.rule,
            "required": q.required,
            "answered": self.answered,
            "blank": self.blank,
        }
        if q.rule == "scale":
            return head | self._scale()
        if q.rule == "ranking":
            return head | self._ranking()
        if q.rule == "open":
            return head | {"answers": sorted(self.counts.elements())}
        return head | {
            "max_choices": q.allowed,
            "options": [
                {
                    "option": o.id,
                    "count": self.counts[o.id],
                    **_share(self.counts[o.id], self.answered),
                }
                for o in q.options
            ],
        }

    def _scale(self) -> dict[str, Any]:
        values: Counter[int] = Counter({p: self.counts[p] for p in self.q.points if self.counts[p]})
        total = sum(p * c for p, c in values.items())
        mean = Fraction(total, self.answered) if self.answered else None
        return {
            "scale": {"min": self.q.scale_min, "max": self.q.scale_max},
            "points": [
                {"point": p, "count": self.counts[p], **_share(self.counts[p], self.answered)}
                for p in self.q.points
            ],
            "mean": fraction_json(mean),
            "median": fraction_json(median(values)),
        }

    def _ranking(self) -> dict[str, Any]:
        options = [o.id for o in self.q.options]
        points = borda(options, self.rankings)
        table = pairwise(options, self.rankings)
        ranks = shared_ranks(options, points)
        first = Counter[str]()
        for ranking, n in self.rankings.items():
            first[ranking[0]] += n
        top = max(points.values()) if options else 0
        return {
            "options": [
                {"option": a, "borda": points[a], "rank": ranks[a], "first": first[a]}
                for a in options
            ],
            "borda_winners": [a for a in options if points[a] == top] if self.answered else [],
            "condorcet_winner": condorcet_winner(options, table) if self.answered else None,
            "pairwise": [
                {"option": a, "prefer": [None if a == b else table[a][b] for b in options]}
                for a in options
            ],
        }
