"""Who may vote and who may stand (WOR art. 6(2)-(3) as amended 1 January 2022; docs/rules.md).

Employees who have worked in the company for at least ``min_months_to_vote`` /
``min_months_to_stand`` months (both default 3), counted up to the first voting day, may vote /
stand.

Agency workers (uitzendkrachten) count as "working in the company" only after they have worked
there for ``agency_months`` months (default 15, WOR art. 1(3)(b)); from that moment the ordinary
3-month rule starts. Interpretation used here, and the reason docs/rules.md says "effectively 18
months": an agency worker needs ``agency_months + min_months_to_vote`` whole months (and
``agency_months + min_months_to_stand`` to stand), counted from their first day in the company.

The committee may override the outcome per voter with a recorded reason; the caller decides
when, :func:`apply_override` records it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date


def _add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, clamped to the end of a shorter month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def months_of_service(start_date: date, reference_date: date) -> int:
    """Whole calendar months from ``start_date`` up to and including ``reference_date``.

    A month is complete when the same day of a later month is reached (the end of the month when
    that day does not exist): 15 Jan → 15 Apr is 3 months, 15 Jan → 14 Apr is 2, 31 Jan → 30 Apr
    is 3. A start after the reference date gives 0.
    """
    if reference_date < start_date:
        return 0
    months = (reference_date.year - start_date.year) * 12 + (
        reference_date.month - start_date.month
    )
    while months > 0 and _add_months(start_date, months) > reference_date:
        months -= 1
    return months


@dataclass(frozen=True)
class Eligibility:
    """Outcome for one person, with the reasons a committee member can read back."""

    may_vote: bool
    may_stand: bool
    months_of_service: int
    months_required_to_vote: int
    months_required_to_stand: int
    agency_worker: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    overridden: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "may_vote": self.may_vote,
            "may_stand": self.may_stand,
            "months_of_service": self.months_of_service,
            "months_required_to_vote": self.months_required_to_vote,
            "months_required_to_stand": self.months_required_to_stand,
            "agency_worker": self.agency_worker,
            "reasons": list(self.reasons),
            "overridden": self.overridden,
        }


def eligibility(
    start_date: date,
    reference_date: date,
    agency_worker: bool = False,
    min_months_to_vote: int = 3,
    min_months_to_stand: int = 3,
    agency_months: int = 15,
) -> Eligibility:
    """Decide whether a person may vote and stand, counted up to ``reference_date``.

    ``reference_date`` is the first voting day (docs/rules.md). For agency workers see the module
    docstring: the required months are ``agency_months`` plus the ordinary minimum.
    """
    for name, value in (
        ("min_months_to_vote", min_months_to_vote),
        ("min_months_to_stand", min_months_to_stand),
        ("agency_months", agency_months),
    ):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    months = months_of_service(start_date, reference_date)
    extra = agency_months if agency_worker else 0
    need_vote = extra + min_months_to_vote
    need_stand = extra + min_months_to_stand
    who = "agency worker" if agency_worker else "employee"
    basis = f" ({agency_months} months as agency worker + {{n}} months)" if agency_worker else ""

    reasons: list[str] = []
    may_vote = months >= need_vote
    may_stand = months >= need_stand
    for verb, ok, need, minimum in (
        ("vote", may_vote, need_vote, min_months_to_vote),
        ("stand", may_stand, need_stand, min_months_to_stand),
    ):
        relation = "at least" if ok else "fewer than"
        reasons.append(
            f"may {'' if ok else 'not '}{verb}: {who} with {months} whole months of service, "
            f"{relation} the {need} required{basis.format(n=minimum)}"
        )
    return Eligibility(
        may_vote=may_vote,
        may_stand=may_stand,
        months_of_service=months,
        months_required_to_vote=need_vote,
        months_required_to_stand=need_stand,
        agency_worker=agency_worker,
        reasons=tuple(reasons),
    )


def apply_override(
    result: Eligibility,
    reason: str,
    may_vote: bool | None = None,
    may_stand: bool | None = None,
) -> Eligibility:
    """The committee's per-person override (docs/rules.md), kept with its reason.

    ``None`` leaves that right as computed. An override without a reason is refused.
    """
    if not reason or not reason.strip():
        raise ValueError("an override needs a reason")
    reasons = list(result.reasons)
    new_vote = result.may_vote if may_vote is None else may_vote
    new_stand = result.may_stand if may_stand is None else may_stand
    if may_vote is not None:
        reasons.append(f"committee override: may {'' if new_vote else 'not '}vote: {reason}")
    if may_stand is not None:
        reasons.append(f"committee override: may {'' if new_stand else 'not '}stand: {reason}")
    return replace(
        result, may_vote=new_vote, may_stand=new_stand, reasons=tuple(reasons), overridden=True
    )
