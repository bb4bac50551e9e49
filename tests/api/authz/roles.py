"""Role sets shared by the authorization tables (this module declares no routes)."""

ANY = frozenset({"anonymous", "operator", "committee", "trustee", "voter", "submitter"})

RULES: dict[tuple[str, str], set[str]] = {}
