"""The audit trail and member removal (api.audit, api.auth)."""

RULES = {
    ("GET", "/api/v1/elections/{election_id}/audit"): {"operator", "committee"},
    ("GET", "/api/v1/elections/{election_id}/audit/export"): {"operator", "committee"},
    ("GET", "/api/v1/audit"): {"operator"},
    ("DELETE", "/api/v1/elections/{election_id}/members/{member_id}"): {"operator", "committee"},
}
