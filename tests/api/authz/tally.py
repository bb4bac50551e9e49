"""Who may call each tally route: trustees hand in shares; status, results and record are public."""

ANY = {"anonymous", "operator", "committee", "trustee", "voter"}

RULES = {
    ("GET", "/api/v1/elections/{election_id}/tally"): ANY,
    ("POST", "/api/v1/elections/{election_id}/tally/shares"): {"trustee"},
    ("GET", "/api/v1/elections/{election_id}/results"): ANY,
    ("GET", "/api/v1/elections/{election_id}/results/page"): ANY,
    ("GET", "/api/v1/elections/{election_id}/record"): ANY,
}
