"""Who may call each route of the foundation (elections, auth, log, health)."""

from tests.api.authz.roles import ANY

RULES = {
    ("POST", "/api/v1/elections"): {"operator"},
    ("GET", "/api/v1/elections"): {"operator"},
    ("GET", "/api/v1/elections/{election_id}"): ANY,
    ("PUT", "/api/v1/elections/{election_id}/settings"): {"committee"},
    ("POST", "/api/v1/elections/{election_id}/transitions"): {"committee"},
    ("POST", "/api/v1/elections/{election_id}/cancel"): {"committee"},
    ("POST", "/api/v1/elections/{election_id}/login"): ANY,
    ("POST", "/api/v1/elections/{election_id}/members"): {"operator", "committee"},
    ("GET", "/api/v1/elections/{election_id}/members"): {"operator", "committee"},
    ("POST", "/api/v1/elections/{election_id}/members/{member_id}/code"): {"operator", "committee"},
    ("GET", "/api/v1/elections/{election_id}/me"): {"committee", "trustee", "voter"},
}
