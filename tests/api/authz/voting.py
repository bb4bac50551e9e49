"""Who may call the voting routes. Casting is anonymous by design (docs/protocol.md)."""

from tests.api.authz.roles import ANY

E = "/api/v1/elections/{election_id}"

RULES = {
    ("POST", f"{E}/voting/keys"): {"committee"},
    ("GET", f"{E}/voting/keys"): ANY,
    ("POST", f"{E}/voting/credential"): {"voter"},
    ("GET", f"{E}/voting/credential"): {"voter"},
    ("POST", f"{E}/ballots"): ANY,
    ("GET", f"{E}/receipts/{{entry_hash}}"): ANY,
    ("GET", f"{E}/ballot"): ANY,
    ("GET", f"{E}/voting/turnout"): {"committee"},
}
