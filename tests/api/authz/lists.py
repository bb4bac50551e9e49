"""Who may call each route of the candidate lists (union accounts have the role "submitter",
which test_authz does not enumerate; the list tests log in as one)."""

from tests.api.authz.roles import ANY

P = "/api/v1/elections/{election_id}"
C = {"committee"}
OWNER = {"submitter", "voter"}

RULES = {
    ("POST", f"{P}/submitters"): C,
    ("GET", f"{P}/submitters"): C,
    ("POST", f"{P}/submitters/{{submitter_id}}/code"): C,
    ("POST", f"{P}/lists"): OWNER,
    ("GET", f"{P}/lists"): {"committee", "submitter", "voter"},
    ("GET", f"{P}/lists/{{list_id}}"): {"committee", "submitter", "voter"},
    ("PUT", f"{P}/lists/{{list_id}}/candidates"): OWNER,
    ("POST", f"{P}/lists/{{list_id}}/submit"): OWNER,
    ("POST", f"{P}/lists/{{list_id}}/validation"): C,
    ("GET", f"{P}/lists/person-order"): C,
    ("PUT", f"{P}/lists/person-order"): C,
    ("GET", f"{P}/me/candidacies"): {"voter"},
    ("PUT", f"{P}/me/candidacies/{{candidate_id}}/consent"): {"voter"},
    ("GET", f"{P}/status"): ANY,
}
