"""Descriptions of every operation and its success answer, for the contract (api.contract adds
them where a route declares none). Kept in one table, keyed by operation id, so that every
operation has one — `tests/api/test_contract_types.py` fails on a new route without — and so
that routes owned by other work (api/auth) are described without touching them.

Each entry: (what the operation does beyond its summary, what the success answer holds).
"""

from __future__ import annotations

DOCS: dict[str, tuple[str, str]] = {
    # retention of personal data (api.retention)
    "elections-retention": (
        "Committee or operator. The election's `retention_days` setting, when it ended, the "
        "date until which its personal data is kept, and whether it was purged.",
        "the retention state: `ended_at`, `retain_until`, `purged`, `purged_at_index`",
    ),
    "elections-purge": (
        "Operator only. Deletes or anonymises the names, e-mail addresses, employee numbers, "
        "codes and other personal data of an ended election (409 before it ended, before the "
        "retention period is over unless `force`, or when purged already) and appends "
        "`personal_data_purged` with counts; the public log, the record and the results stay.",
        "the counts per kind of row and the index of the `personal_data_purged` entry",
    ),
    # the audit trail (api.audit)
    "audit-election_audit": (
        "Committee or operator. Every decision about this election — by the committee (the "
        "member, by id and name at the time), the operator or the scheduler (`system`) — newest "
        "first, `action` from the fixed list of docs/audit.md, with the reason where one was "
        "given. Nothing about credentials or ballots.",
        "`total` matching entries and one page of them as `items`",
    ),
    "audit-export": (
        "Committee or operator. The whole trail, oldest first, as CSV; cells that a spreadsheet "
        "would run as a formula (starting with =, +, -, @, tab, CR) are prefixed with `'`.",
        "CSV with the columns at, role, member, action, subject, reason, details",
    ),
    "audit-all_audit": (
        "Operator only. The audit trail across every election of the deployment, newest first.",
        "`total` matching entries and one page of them as `items`, each with its `election_id`",
    ),
    # elections
    "elections-list_elections": (
        "Operator only. The elections of this deployment, in any phase, newest first, paged "
        "with `offset` and `limit`.",
        "one page of elections as `items`, and their `total`",
    ),
    "elections-create_election": (
        "Operator only. The election starts in `draft`; its log opens with `election_created` "
        "(name, organisation, settings). Appoint its committee with `POST …/members`.",
        "the election, in `draft`; `Location` is its URL",
    ),
    "elections-get_election": (
        "Public. What a voter's client reads first: kind (`works_council` or `consultation`), "
        "phase and the settings that decide the ballot.",
        "the election",
    ),
    "elections-cancel": (
        "Committee. Ends the election in `cancelled` with a reason that is appended to the log "
        "(`phase_changed`); pooled entries are flushed first. Irreversible.",
        "the election, in `cancelled`",
    ),
    "elections-update_settings": (
        "Committee. In `draft` the whole settings object is replaced; later only the schedule "
        "may change. Appends `settings_updated`.",
        "the election with its new settings",
    ),
    "elections-transition": (
        "Committee. Allowed moves follow the lifecycle `draft → nomination → candidacy → "
        "lists_published → voting → closed`; entering `lists_published` publishes the ballot, "
        "entering `closed` flushes every pool before the `voting closed` entry; "
        "`lists_published → tallied` only when no kiesgroep holds a vote (docs/rules.md).",
        "the election in its new phase",
    ),
    # lists
    "lists-list_lists": (
        "The committee sees every list; a union account or a voter only the lists they submit.",
        "the lists with their candidates and state, as `items`",
    ),
    "lists-create_list": (
        "In `candidacy`, inside the candidacy window. A union account starts a union list; a "
        "voter may start one free list for their own kiesgroep (not as a member of a union that "
        "submitted one: WOR art. 9).",
        "the new list, without candidates; `Location` is its URL",
    ),
    "lists-get_person_order": (
        "Committee: the order stored for the person system (`alphabetical` until the committee "
        "chooses), with the lot's seed once the lists are published. The order itself shows in "
        "the candidates' order of the `lists_published` entry.",
        "the stored order",
    ),
    "lists-set_person_order": (
        "Committee, person system only: candidates alphabetically, or in the verifiable "
        "lot's order seeded with the SHA-256 of the log's leaf hashes so far.",
        "the order chosen",
    ),
    "lists-get_list": (
        "The list's owner or the committee. Problems name what stops submission or acceptance "
        "(a candidate not eligible to stand, not consenting, on another list).",
        "the list with its candidates, their consent and its problems",
    ),
    "lists-set_candidates": (
        "The list's owner, while the list is a draft or was rejected; the order is the list "
        "order. Each candidate must consent through their own login.",
        "the list with its new candidates",
    ),
    "lists-submit_list": (
        "The list's owner, inside the candidacy window, when every candidate consented.",
        "the list, submitted",
    ),
    "lists-validate_list": (
        "Committee. An accepted list goes on the ballot at `lists_published`; a rejected one "
        "goes back to its owner with the reason.",
        "the list, accepted or rejected",
    ),
    "lists-my_candidacies": (
        "Voter. Every list that names you, to consent or decline.",
        "your candidacies",
    ),
    "lists-consent": (
        "Voter. A person consents to at most one list; declining removes the consent.",
        "your candidacy with its consent",
    ),
    "lists-election_status": (
        "Public. Per kiesgroep: seats, voters on the roll, published lists, and whether a vote is "
        "held there (no vote when it has no more candidates than seats).",
        "the election's status per kiesgroep",
    ),
    "lists-list_submitters": (
        "Committee. The union representative accounts of this election.",
        "the accounts, as `items`",
    ),
    "lists-add_submitter": (
        "Committee. A login for a union that submits lists; the access code is shown once.",
        "the account with its access code; `Location` is the list of submitters",
    ),
    "lists-regenerate_submitter_code": (
        "Committee. A new code for a union account; the old code stops working at once.",
        "the account with its new access code",
    ),
    # log
    "log-latest_checkpoint": (
        "Public. The latest C2SP checkpoint signed by the log key; verify it with `GET …/log/key`.",
        "size, hex root hash and the signed note",
    ),
    "log-latest_checkpoint_text": (
        "Public. The same checkpoint as plain text, for tools that read C2SP notes.",
        "the signed note, verbatim",
    ),
    "log-checkpoint_at": (
        "Public. The checkpoint signed when the log had exactly this size (one after every "
        "append or flush); 404 for a size at which none was signed.",
        "size, hex root hash and the signed note",
    ),
    "log-read_entries": (
        "Public. Appended entries only (pooled ones never), in index order, paged with `start` "
        "and `limit`; follow `next` until it is null.",
        "a page of entries with their index and leaf hash",
    ),
    "log-log_key": (
        "Public. The election's Ed25519 log key. Split the verifier key at its first two `+` "
        "only: the base64 part may contain `+`.",
        "origin, C2SP verifier key and the raw public key",
    ),
    "log-consistency_proof": (
        "Public. RFC 9162 §2.1.4.2 proof that the tree of size `to` extends the tree of size "
        "`from`: the check that the log was not rewritten.",
        "the proof, hex hashes",
    ),
    "log-inclusion_proof": (
        "Public. RFC 9162 §2.1.3.2 proof that the entry (by `index` or `entry_hash`) is in the "
        "tree of `size` (default: latest), with that size's signed checkpoint.",
        "the proof, hex hashes, and the checkpoint",
    ),
    "log-check_receipt": (
        "Public. The server's own check of a receipt (inclusion and consistency with the "
        "latest checkpoint) or of a ballot promise (signature, and whether its entry is in the "
        "log); a client can make every check itself.",
        "the verdict, check by check",
    ),
    # auth
    "auth-login": (
        "Public. Any role's access code (voter, committee, trustee, union account); failed codes "
        "are limited per client and election (429 with `Retry-After`). The token goes in "
        "`Authorization: Bearer` on authenticated routes — never on `POST …/ballots`.",
        "the token, its expiry, roles and, for a voter, the kiesgroep to blind for",
    ),
    "auth-whoami": (
        "Any role of this election: what the token says.",
        "subject, roles, election and expiry of the token",
    ),
    "auth-list_members": (
        "Operator or committee. The committee members and trustees, without codes.",
        "the members, as `items`",
    ),
    "auth-add_member": (
        "Operator or committee. Appoints a committee member and/or trustee; the access code is "
        "shown once. No trustee once the voting keys are prepared (`trustees-fixed`): the "
        "sealing key's shares are already with the trustees of that moment.",
        "the member with their access code",
    ),
    "auth-remove_member": (
        "Operator, or a committee member removing another member (never themself: 409 "
        "`self-removal`). The member's code and every token issued for it stop working at once; "
        "the member leaves the list and the proces-verbaal. Refused for a trustee once the "
        "voting keys are prepared (`trustees-fixed`), for the last committee member "
        "(`last-committee-member`) and in an ended election. Recorded as `member_removed`.",
        "nothing (204)",
    ),
    "auth-regenerate_code": (
        "Operator or committee. The old code stops working at once.",
        "the member with their new access code",
    ),
    # nominations
    "nominations-search_colleagues": (
        "Voter or union account: colleagues matching `q`, who can be nominated or put on a list.",
        "the matching colleagues, as `items`",
    ),
    "nominations-respond": (
        "Voter, when nominated: accept or decline to stand. Nobody learns who nominated you.",
        "your answer",
    ),
    "nominations-my_nominations": (
        "Voter. Whom you nominated, how many nominations you have left, and how often you were "
        "nominated (a count only).",
        "your nominations",
    ),
    "nominations-accepted": (
        "Committee, voters and union accounts: nominees who accepted, to put on a list.",
        "the nominees who accepted, as `items`",
    ),
    "nominations-approached": (
        "Committee. Marks that a nominee was asked to stand.",
        "the nominee's state",
    ),
    "nominations-ranking": (
        "Committee. Per nominee the number of nominations and the motivations — never who "
        "gave them.",
        "the ranking, as `items`",
    ),
    # roll
    "roll-object_to_registration": (
        "Voter, until the roll is frozen: say what is wrong with your registration; the "
        "committee resolves it with a note you see.",
        "the objection, open; `Location` is your registration",
    ),
    "roll-my_registration": (
        "Voter. Your registration, the reasons you may (not) vote or stand, your objections, and "
        "the pseudonym your `issuance` entry will carry.",
        "your registration",
    ),
    "roll-roll_summary": (
        "Committee. Counts per kiesgroep, whether the roll is frozen, open objections.",
        "the roll's summary",
    ),
    "roll-list_objections": (
        "Committee. Voters' objections, filtered by `status`.",
        "the objections, as `items`",
    ),
    "roll-resolve_objection": (
        "Committee. Closes an objection with a note the voter sees.",
        "the objection, resolved",
    ),
    "roll-list_voters": (
        "Committee. Paged with `start` and `limit` (follow `next`); `q` searches name or "
        "employee number.",
        "a page of voters and the number of matches",
    ),
    "roll-get_voter": (
        "Committee. One voter, with the reasons for their eligibility.",
        "the voter",
    ),
    "roll-regenerate_code": (
        "Committee. A new access code for one voter; the old one stops working at once.",
        "the voter's new access code",
    ),
    "roll-override": (
        "Committee. The reason is kept with the override.",
        "the voter with the override applied",
    ),
    # tally
    "tally-record": (
        "Public. The whole election record as JSON Lines: a header, then every entry and "
        "checkpoint in order; `stembus verify` checks it offline.",
        "the record, streamed",
    ),
    "tally-results": (
        "Public, once tallied. A browser that asks for HTML is sent to the results page (303).",
        "the `result` entry, its log index and the display names of lists and candidates",
    ),
    "tally-results_export": (
        "Public, once a consultation is tallied. The aggregate counts of the `result` entry as "
        "flat rows (`scope, question, rule, item, measure, value`; api/tally/export.py) for a "
        "spreadsheet (`format=csv`, the default) or a script (`format=json`). Scopes are the "
        'total, the kiesgroepen shown on their own and `other` (docs/rules.md "Small groups"); '
        "open answers appear only as counts, never as text.",
        "the rows as CSV (with a header line) or as JSON `{columns, rows}`",
    ),
    "tally-results_page": (
        "Public. Dutch or English by `lang` or Accept-Language.",
        "the results page (HTML)",
    ),
    "tally-proces_verbaal": (
        "Committee, once tallied: the official record to print and sign, with the final "
        "checkpoint that ties it to the public log.",
        "the proces-verbaal (PDF)",
    ),
    "tally-tally_status": (
        "Public. How many of the k trustee shares are in after the close.",
        "phase and share counts",
    ),
    "tally-submit_share": (
        "Trustee, after the close. With k shares the sealing key is rebuilt, checked against "
        "the published key, appended (`decryption_key`), and the tally appends the `result`.",
        "phase and share counts after this share",
    ),
    # voting
    "voting-published_ballot": (
        "",
        "the group's ballot definition, its log entry, index and inclusion proof",
    ),
    "voting-credential_status": (
        "Voter. Whether your credential was issued, your kiesgroep, your pseudonym, and the "
        "issuer key to blind with — compare it with the JWK you are about to use.",
        "your credential status",
    ),
    "voting-issue_credential": (
        "Voter, while voting is open. Once per voter: a retry with the same `blinded_msg` gets "
        "the same `blind_sig`, another one 409. The server refuses a `blinded_msg` not below "
        "the group's modulus, but cannot tell one blinded with another key: check `issuer_key` "
        "(`GET …/voting/credential`) first. The `issuance` entry waits in the pool for a flush.",
        "the blind signature, your kiesgroep, pseudonym and the issuer key it is under",
    ),
    "voting-get_keys": (
        "Public, once voting is prepared. Check `entry.log_key` against `GET …/log/key` and the "
        "entry's inclusion proof (`GET …/log/proofs/inclusion?index=`).",
        "the `keys` entry and its log index",
    ),
    "voting-prepare_keys": (
        "Committee, in `lists_published`: uploads the ceremony's sealing public key; the server "
        "makes one RSA-2048 issuer key per kiesgroep with a vote and appends `keys`.",
        "the `keys` entry, appended, with its log index; `Location` is its URL",
    ),
    "voting-turnout": (
        "Committee. Counts only: credentials issued and distinct credentials that voted, per "
        "kiesgroep.",
        "turnout per kiesgroep",
    ),
    "voting-receipt_by_hash": ("", "`pending`, or `included` with the receipt"),
    "roll-send_invitations": (
        "",
        "how many mails were queued, how many voters have no address or a mail still queued; "
        "`Location` and `status_url` are the status",
    ),
    "roll-resend_invitations": ("", "the same counts as a send"),
    "roll-invitation_status": (
        "Committee or operator. Counts per status, and a page (`offset`, `limit`) of the "
        "election's mails, optionally of one `status`: name, address, attempts, the server's "
        "reason for the last failure.",
        "counts per status and one page of mails",
    ),
    "roll-preview_invitation": ("", "the subject and plain-text body, with a sample name and code"),
    "roll-freeze": ("", "the counts and commitment appended"),
    "roll-import_roll": ("", "the diff against the current roll, applied unless `dry_run`"),
    # health and problems
    "health-healthz": ("Public. Liveness: the process answers.", "ok"),
    "health-readyz": ("Public. Readiness: the database answers (503 if not).", "ok"),
    "problems-list_problem_types": (
        "Public. Every `type` an error answer can carry, with its status.",
        "the problem types",
    ),
    "problems-get_problem_type": (
        "Public. The `type` URI of a problem document resolves here.",
        "the problem type",
    ),
}
