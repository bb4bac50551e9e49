"""The public Merkle log: every route is open to everyone (docs/protocol.md "bulletin board")."""

from tests.api.authz.roles import ANY

LOG = "/api/v1/elections/{election_id}/log"

RULES = {
    ("GET", f"{LOG}/entries"): ANY,
    ("GET", f"{LOG}/checkpoint"): ANY,
    ("GET", f"{LOG}/checkpoint.txt"): ANY,
    ("GET", f"{LOG}/checkpoints/{{size}}"): ANY,
    ("GET", f"{LOG}/key"): ANY,
    ("GET", f"{LOG}/proofs/inclusion"): ANY,
    ("GET", f"{LOG}/proofs/consistency"): ANY,
    ("POST", f"{LOG}/receipts/check"): ANY,
}
