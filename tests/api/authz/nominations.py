"""Who may call each route of the nomination campaign."""

P = "/api/v1/elections/{election_id}"
C = {"committee"}

RULES = {
    ("GET", f"{P}/colleagues"): {"voter", "submitter"},
    ("POST", f"{P}/nominations"): {"voter"},
    ("GET", f"{P}/me/nominations"): {"voter"},
    ("PUT", f"{P}/me/nomination/response"): {"voter"},
    ("GET", f"{P}/nominations/ranking"): C,
    ("POST", f"{P}/nominations/nominees/{{voter_id}}/approached"): C,
    ("GET", f"{P}/nominations/accepted"): {"committee", "voter", "submitter"},
}
