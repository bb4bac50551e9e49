"""Who may call each tally route: trustees hand in shares; the committee fetches the
proces-verbaal; status, results, the export of a consultation's counts and record are public."""

from tests.api.authz.roles import ANY

RULES = {
    ("GET", "/api/v1/elections/{election_id}/tally"): ANY,
    ("POST", "/api/v1/elections/{election_id}/tally/shares"): {"trustee"},
    ("GET", "/api/v1/elections/{election_id}/results"): ANY,
    ("GET", "/api/v1/elections/{election_id}/results/page"): ANY,
    ("GET", "/api/v1/elections/{election_id}/results/export"): ANY,
    ("GET", "/api/v1/elections/{election_id}/results/proces-verbaal"): {"committee"},
    ("GET", "/api/v1/elections/{election_id}/record"): ANY,
}
