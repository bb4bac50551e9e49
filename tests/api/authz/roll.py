"""Who may call each route of the roll, objections and invitations."""

P = "/api/v1/elections/{election_id}"
C = {"committee"}

RULES = {
    ("POST", f"{P}/roll/import"): C,
    ("GET", f"{P}/roll"): C,
    ("GET", f"{P}/roll/voters"): C,
    ("GET", f"{P}/roll/voters/{{voter_id}}"): C,
    ("PUT", f"{P}/roll/voters/{{voter_id}}/override"): C,
    ("POST", f"{P}/roll/voters/{{voter_id}}/code"): C,
    ("POST", f"{P}/roll/freeze"): C,
    ("GET", f"{P}/roll/objections"): C,
    ("POST", f"{P}/roll/objections/{{objection_id}}/resolve"): C,
    ("GET", f"{P}/me/registration"): {"voter"},
    ("POST", f"{P}/me/objections"): {"voter"},
    ("POST", f"{P}/invitations/export"): C,
    ("POST", f"{P}/invitations/send"): C,
    ("POST", f"{P}/invitations/preview"): C,
    ("POST", f"{P}/invitations/resend"): C,
    ("GET", f"{P}/invitations/status"): {"committee", "operator"},
}
