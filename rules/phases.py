"""The phases of an election (PRODUCT.md), shared by the service's state machine and the
verifier's entry-order check, so both read one definition."""

PHASES = (
    "draft",
    "nomination",
    "candidacy",
    "lists_published",
    "voting",
    "closed",
    "tallied",
    "cancelled",
)
BEFORE_VOTING = frozenset({"draft", "nomination", "candidacy", "lists_published"})
TERMINAL = frozenset({"tallied", "cancelled"})
