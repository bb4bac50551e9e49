"""Retention: the committee and the operator may read it; only the operator purges."""

RULES = {
    ("GET", "/api/v1/elections/{election_id}/retention"): {"committee", "operator"},
    ("POST", "/api/v1/elections/{election_id}/retention/purge"): {"operator"},
}
