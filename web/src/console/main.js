// The committee's and operator's console (issue 17), served at /console. A client of the public
// /api/v1 API only: every action is a call with the member's (or operator's) bearer token, kept
// in sessionStorage (this tab, this visit) — never in an address or a cookie. The address's
// fragment says which view this is (#/operator, #/e/{id}/{section}).

import { ApiError, call, query } from "./api.js";
import {
  action,
  button,
  card,
  checkbox,
  errorBox,
  facts,
  field,
  fmtDate,
  h,
  lang,
  note,
  outcome,
  radios,
  saveBlob,
  say,
  screen,
  select,
  t,
  table,
} from "./dom.js";
import { questionsEditor } from "./questions.js";

// ------------------------------------------------------------------ sessions (this tab only)

const OPERATOR = "stembus-console:operator";
const memberKey = (e) => `stembus-console:member:${e}`;

function load(key) {
  try {
    const v = JSON.parse(sessionStorage.getItem(key) || "null");
    if (v && v.expires_at && new Date(v.expires_at) <= new Date()) {
      sessionStorage.removeItem(key);
      return null;
    }
    return v;
  } catch {
    return null;
  }
}
const store = (key, v) => (v === null ? sessionStorage.removeItem(key) : sessionStorage.setItem(key, JSON.stringify(v)));

function memberSessions() {
  const out = [];
  for (let i = 0; i < sessionStorage.length; i++) {
    const k = sessionStorage.key(i);
    if (k && k.startsWith("stembus-console:member:")) {
      const v = load(k);
      if (v) out.push(v);
    }
  }
  return out;
}

function logoutAll() {
  for (const k of Object.keys(sessionStorage)) if (k.startsWith("stembus-console:")) sessionStorage.removeItem(k);
}

const go = (hash) => {
  if (location.hash === hash) route();
  else location.hash = hash;
};

/** A call as the operator or as this election's member; an ended login goes back to the start. */
async function api(who, method, path, opts = {}) {
  const s = who === "operator" ? load(OPERATOR) : load(memberKey(who));
  if (!s) {
    go("#/");
    throw new ApiError(401, { type: "/problems/unauthenticated", title: t("error_login") });
  }
  try {
    return await call(method, path, { ...opts, token: s.access_token });
  } catch (err) {
    if (err instanceof ApiError && (err.slug === "unauthenticated" || err.slug === "token-revoked")) {
      store(who === "operator" ? OPERATOR : memberKey(who), null);
    }
    throw err;
  }
}

// ------------------------------------------------------------------ texts of the domain

const phaseName = (p) => t(`phase_${p}`);
const yesNo = (b) => (b === null || b === undefined ? "—" : b ? t("yes") : t("no"));

let timer = null;
function every(ms, fn) {
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.body.contains(document.getElementById("refreshing"))) clearInterval(timer);
    else fn();
  }, ms);
}

// ------------------------------------------------------------------ start: log in

function start() {
  const sessions = memberSessions();
  const op = load(OPERATOR);
  const mine =
    sessions.length || op
      ? card(
          h("h2", {}, t("start_open")),
          h(
            "ul",
            { class: "menu" },
            op ? h("li", {}, h("a", { href: "#/operator" }, t("start_as_operator"))) : null,
            sessions.map((s) => h("li", {}, h("a", { href: `#/e/${encodeURIComponent(s.election)}` }, t("start_as_member", { e: s.election })))),
          ),
          button(t("logout"), () => {
            logoutAll();
            say(t("logged_out"));
            go("#/");
          }),
        )
      : null;

  // The committee member (or trustee): the election's id and the personal access code.
  const msg = h("div", { id: "login-error" });
  const eid = field(t("login_election"), h("input", { name: "election", autocomplete: "off", spellcheck: "false", required: true, maxlength: "64" }), t("login_election_hint"));
  const code = field(t("login_code"), h("input", { name: "code", autocomplete: "off", spellcheck: "false", required: true, maxlength: "40", autocapitalize: "characters" }), t("login_code_hint"));
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "member-title" },
    h("h2", { id: "member-title" }, t("login_member_title")),
    h("p", {}, t("login_member_intro")),
    eid.row,
    code.row,
    msg,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("login_button"))),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    const e = eid.input.value.trim();
    try {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(e)) throw new ApiError(400, { title: t("login_bad_election") });
      const r = await call("POST", `/elections/${e}/login`, { body: { code: code.input.value.trim().toUpperCase() } });
      if (!r.json.roles.some((x) => x === "committee" || x === "trustee")) throw new ApiError(403, { title: t("login_not_member") });
      const me = (await call("GET", `/elections/${e}/me`, { token: r.json.access_token })).json;
      store(memberKey(e), { ...r.json, election: e, subject: me.subject });
      say(t("logged_in"));
      go(`#/e/${encodeURIComponent(e)}`);
    } catch (err) {
      msg.replaceChildren(err instanceof ApiError && err.slug === "invalid-access-code" ? note("bad", t("login_wrong"), { role: "alert" }) : errorBox(err));
      code.input.focus();
    }
  });

  // The operator: the token from `stembus operator token`.
  const omsg = h("div", {});
  const tok = field(t("login_token"), h("textarea", { name: "token", rows: "3", spellcheck: "false", autocomplete: "off", maxlength: "4000" }), t("login_token_hint"));
  const oform = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "operator-title" },
    h("h2", { id: "operator-title" }, t("login_operator_title")),
    h("p", {}, t("login_operator_intro")),
    h("pre", { class: "proof" }, "stembus operator token"),
    tok.row,
    omsg,
    h("p", {}, h("button", { type: "submit" }, t("login_operator_button"))),
  );
  oform.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    omsg.replaceChildren();
    const token = tok.input.value.trim();
    try {
      await call("GET", `/elections${query({ limit: 1 })}`, { token });
      store(OPERATOR, { access_token: token });
      say(t("logged_in"));
      go("#/operator");
    } catch (err) {
      omsg.replaceChildren(errorBox(err));
      tok.input.focus();
    }
  });
  screen(t("start_title"), h("p", { class: "lead" }, t("start_intro")), mine, form, oform);
}

// ------------------------------------------------------------------ operator

const PAGE = 20;

async function operatorHome(offset = 0) {
  const out = outcome();
  let page;
  try {
    page = (await api("operator", "GET", `/elections${query({ offset, limit: PAGE })}`)).json;
  } catch (err) {
    return screen(t("op_title"), errorBox(err), h("p", {}, h("a", { href: "#/" }, t("to_start"))));
  }
  const total = page.total ?? page.items.length; // the old answer had no total
  const rows = page.items.map((e) => [
    h("a", { href: `#/op/${encodeURIComponent(e.id)}` }, e.name),
    e.organisation,
    phaseName(e.status),
    h("code", {}, e.id),
    fmtDate(e.created_at),
  ]);
  const pager = h(
    "p",
    { class: "actions" },
    h("span", {}, t("paged", { from: total ? offset + 1 : 0, to: offset + page.items.length, total })),
    offset > 0 ? button(t("previous"), () => operatorHome(Math.max(0, offset - PAGE))) : null,
    page.total !== undefined && offset + page.items.length < total ? button(t("next"), () => operatorHome(offset + PAGE)) : null,
  );

  const name = field(t("create_name"), h("input", { maxlength: "200", required: true }), t("create_name_hint"));
  const org = field(t("create_org"), h("input", { maxlength: "200", required: true }));
  const staff = field(t("create_headcount"), h("input", { type: "number", inputmode: "numeric", min: "1", max: "10000000" }), t("create_headcount_hint"));
  const kind = radios(t("create_kind"), "kind", [
    ["works_council", t("kind_works_council"), t("kind_works_council_hint")],
    ["consultation", t("kind_consultation"), t("kind_consultation_hint")],
  ], "works_council");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, t("create_title")),
    h("p", {}, t("create_intro")),
    name.row,
    org.row,
    staff.row,
    kind.row,
    out.el,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("create_button"))),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { name: name.input.value.trim(), organisation: org.input.value.trim(), settings: { kind: kind.value() } };
      if (staff.input.value) body.settings.headcount = Number(staff.input.value);
      const r = await api("operator", "POST", "/elections", { body });
      say(t("created"));
      go(`#/op/${encodeURIComponent(r.json.id)}`);
    } catch (err) {
      out.show(errorBox(err));
    }
  });
  screen(
    t("op_title"),
    h("p", { class: "lead" }, t("op_intro")),
    card(h("h2", {}, t("op_elections")), table(t("op_elections"), [t("col_name"), t("col_org"), t("col_phase"), t("col_id"), t("col_created")], rows, t("op_none")), pager),
    form,
    card(h("p", {}, h("a", { href: "#/" }, t("to_start"))), button(t("logout"), () => {
      store(OPERATOR, null);
      go("#/");
    })),
  );
}

let newMemberCode = null;

/** Members: the committee and the trustees; appoint (the code shown once), new code, remove. */
function membersCard(who, e, refresh, selfId) {
  const wrap = card(h("h2", { id: "members-title" }, t("members_title")), h("p", {}, t("members_intro")), h("p", { role: "status" }, t("loading")));
  const out = outcome();
  (async () => {
    let items;
    try {
      items = (await api(who, "GET", `/elections/${e}/members`)).json.items;
    } catch (err) {
      wrap.replaceChildren(h("h2", {}, t("members_title")), errorBox(err));
      return;
    }
    const showCode = (m) =>
      out.show(
        h(
          "div",
          { class: "note warn", role: "status" },
          h("p", {}, t("code_once", { name: m.name })),
          h("p", {}, h("code", { class: "big-code" }, m.access_code)),
          h("p", {}, t("code_warning")),
        ),
      );
    const rows = items.map((m) => [
      m.name,
      m.email || "—",
      yesNo(m.committee),
      yesNo(m.trustee),
      h(
        "span",
        { class: "actions" },
        action(t("member_new_code"), async () => {
          if (!confirm(t("member_new_code_confirm", { name: m.name }))) return;
          try {
            const r = await api(who, "POST", `/elections/${e}/members/${m.id}/code`);
            showCode({ ...m, ...r.json });
          } catch (err) {
            out.show(errorBox(err));
          }
        }, "", { "aria-label": `${t("member_new_code")}: ${m.name}` }),
        String(m.id) === String(selfId)
          ? null
          : action(t("member_remove"), async () => {
              if (!confirm(t("member_remove_confirm", { name: m.name }))) return;
              try {
                await api(who, "DELETE", `/elections/${e}/members/${m.id}`);
                say(t("member_removed", { name: m.name }));
                refresh();
              } catch (err) {
                out.show(err instanceof ApiError && err.status === 405 ? note("warn", t("member_remove_missing"), { role: "alert" }) : errorBox(err));
              }
            }, "", { "aria-label": `${t("member_remove")}: ${m.name}` }),
      ),
    ]);
    const name = field(t("member_name"), h("input", { maxlength: "200", required: true }));
    const email = field(t("member_email"), h("input", { type: "email", maxlength: "320" }), t("member_email_hint"));
    const committee = checkbox(t("member_committee"), true, t("member_committee_hint"));
    const trustee = checkbox(t("member_trustee"), false, t("member_trustee_hint"));
    const form = h(
      "form",
      { novalidate: true, "aria-labelledby": "appoint-title" },
      h("h3", { id: "appoint-title" }, t("member_appoint")),
      name.row,
      email.row,
      committee.row,
      trustee.row,
      h("p", {}, h("button", { type: "submit" }, t("member_appoint_button"))),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const body = {
          name: name.input.value.trim(),
          email: email.input.value.trim() || null,
          committee: committee.input.checked,
          trustee: trustee.input.checked,
        };
        const r = await api(who, "POST", `/elections/${e}/members`, { body });
        newMemberCode = r.json; // shown once, by the card drawn anew
        refresh();
      } catch (err) {
        out.show(errorBox(err));
      }
    });
    wrap.replaceChildren(
      h("h2", { id: "members-title" }, t("members_title")),
      h("p", {}, t("members_intro")),
      table(t("members_title"), [t("col_name"), t("col_email"), t("col_committee"), t("col_trustee"), t("col_actions")], rows, t("members_none")),
      out.el,
      form,
    );
    if (newMemberCode) {
      showCode(newMemberCode);
      newMemberCode = null;
      say(t("code_once", { name: "" }));
      out.el.querySelector("[role=status]")?.focus();
    }
  })();
  return wrap;
}

async function operatorElection(e) {
  let el;
  try {
    el = (await call("GET", `/elections/${e}`)).json;
  } catch (err) {
    return screen(t("op_title"), errorBox(err), h("p", {}, h("a", { href: "#/operator" }, t("op_back"))));
  }
  const refresh = async () => operatorElection(e);
  screen(
    el.name,
    h("p", {}, h("a", { href: "#/operator" }, t("op_back"))),
    card(
      facts([
        [t("col_org"), el.organisation],
        [t("col_phase"), phaseName(el.status)],
        [t("col_id"), h("code", {}, el.id)],
      ]),
      h("p", {}, t("op_next_step")),
      h("p", {}, h("a", { href: `#/op/${encodeURIComponent(e)}/audit` }, t("nav_audit"))),
    ),
    membersCard("operator", e, refresh),
  );
}

// ------------------------------------------------------------------ committee

const SECTIONS = ["overview", "settings", "members", "roll", "voters", "invitations", "nominations", "lists", "voting", "results", "audit"];

async function committee(e, section, arg) {
  const s = load(memberKey(e));
  if (!s) return go("#/");
  let el;
  try {
    el = (await call("GET", `/elections/${e}`)).json;
  } catch (err) {
    return screen(t("error_title"), errorBox(err), h("p", {}, h("a", { href: "#/" }, t("to_start"))));
  }
  const isCommittee = s.roles.includes("committee");
  const sections = isCommittee ? SECTIONS : ["overview", "results"];
  if (!sections.includes(section)) section = "overview";
  const nav = h(
    "nav",
    { class: "sections", "aria-label": t("nav_label") },
    h(
      "ul",
      {},
      sections.map((x) =>
        h("li", {}, h("a", { href: `#/e/${encodeURIComponent(e)}/${x}`, "aria-current": x === section ? "page" : null }, t(`nav_${x}`))),
      ),
    ),
  );
  const head = h(
    "div",
    { class: "election-head" },
    h("p", { class: "phase" }, `${t("col_phase")}: `, h("strong", {}, phaseName(el.status))),
    h("p", { class: "sub" }, `${el.organisation} · `, h("code", {}, el.id)),
    nav,
  );
  const ctx = { e, el, s, who: e, reload: () => committee(e, section, arg) };
  const body = await VIEWS[section](ctx, arg);
  screen(
    section === "overview" ? el.name : `${t(`nav_${section}`)} – ${el.name}`,
    head,
    body,
    card(
      h("p", { class: "actions" }, h("a", { href: "#/" }, t("to_start")), button(t("logout"), () => {
        store(memberKey(e), null);
        say(t("logged_out"));
        go("#/");
      })),
    ),
  );
}

function transitionButtons(ctx, out, only) {
  const { el, e } = ctx;
  return el.allowed_transitions
    .filter((to) => to !== "cancelled" && (!only || only.includes(to)))
    .map((to) =>
      action(t(`to_${to}`), async () => {
        if (!confirm(t("transition_confirm", { phase: phaseName(to) }))) return;
        try {
          await api(e, "POST", `/elections/${e}/transitions`, { body: { to } });
          say(t("transition_done", { phase: phaseName(to) }));
          ctx.reload();
        } catch (err) {
          out.show(errorBox(err));
        }
      }, "primary"),
    );
}

async function overview(ctx) {
  const { el, e, s } = ctx;
  const out = outcome();
  const isCommittee = s.roles.includes("committee");
  const moves = isCommittee ? transitionButtons(ctx, out) : [];
  const reason = field(t("cancel_reason"), h("textarea", { rows: "2", maxlength: "500" }), t("cancel_reason_hint"));
  const cancel =
    isCommittee && el.allowed_transitions.includes("cancelled")
      ? h(
          "details",
          {},
          h("summary", {}, t("cancel_title")),
          note("warn", t("cancel_warning")),
          reason.row,
          action(t("cancel_button"), async () => {
            if (!reason.input.value.trim()) {
              out.show(note("bad", t("reason_required"), { role: "alert" }));
              return reason.input.focus();
            }
            if (!confirm(t("cancel_confirm"))) return;
            try {
              await api(e, "POST", `/elections/${e}/cancel`, { body: { reason: reason.input.value.trim() } });
              ctx.reload();
            } catch (err) {
              out.show(errorBox(err));
            }
          }),
        )
      : null;
  const sched = el.settings.schedule || {};
  return [
    card(
      h("h2", {}, t("phase_now", { phase: phaseName(el.status) })),
      h("p", {}, t(`phase_${el.status}_what`)),
      facts(
        ["nomination", "candidacy", "voting"].map((p) => [t(`period_${p}`), sched[p] ? `${fmtDate(sched[p].start)} – ${fmtDate(sched[p].end)}` : t("not_planned")]),
      ),
    ),
    isCommittee
      ? card(
          h("h2", {}, t("next_phase")),
          moves.length ? h("p", {}, t("next_phase_intro")) : h("p", {}, t("no_next_phase")),
          h("div", { class: "actions" }, moves),
          out.el,
          cancel,
        )
      : card(h("h2", {}, t("trustee_title")), h("p", {}, t("trustee_intro")), h("p", {}, h("a", { href: `/elections/${encodeURIComponent(e)}/trustee` }, t("trustee_page")))),
  ];
}

// ----- settings

async function settingsView(ctx) {
  const { el, e } = ctx;
  const st = structuredClone(el.settings);
  const draft = el.status === "draft";
  const out = outcome();
  const num = (v, min, max) => h("input", { type: "number", inputmode: "numeric", min, max, value: v ?? "", disabled: !draft });
  const works = st.kind === "works_council";

  const sizeMode = radios(t("set_size"), "size", [
    ["seats", t("set_size_seats"), t("set_size_seats_hint")],
    ["headcount", t("set_size_headcount"), t("set_size_headcount_hint")],
  ], st.seats ? "seats" : "headcount");
  const seats = field(t("set_seats"), num(st.seats, 1, 50));
  const headcount = field(t("set_headcount"), num(st.headcount, 1, 10000000));

  // Kiesgroepen: one row each (id, name, seats).
  const groupsBody = h("tbody", {});
  const addGroup = (g = { id: "", name: "", seats: null }) => {
    const n = groupsBody.children.length + 1;
    const id = h("input", { value: g.id, maxlength: "32", "aria-label": t("set_group_id_n", { n }), disabled: !draft });
    const nm = h("input", { value: g.name, maxlength: "100", "aria-label": t("set_group_name_n", { n }), disabled: !draft });
    const se = h("input", { type: "number", min: "1", max: "50", value: g.seats ?? "", "aria-label": t("set_group_seats_n", { n }), disabled: !draft });
    const tr = h("tr", {}, h("td", {}, id), h("td", {}, nm), h("td", {}, se), h("td", {}, draft ? button(t("remove"), () => tr.remove(), "", { "aria-label": t("set_group_remove_n", { n }) }) : null));
    tr.read = () => ({ id: id.value.trim(), name: nm.value.trim(), seats: se.value ? Number(se.value) : null });
    groupsBody.append(tr);
  };
  for (const g of st.kiesgroepen || []) addGroup(g);
  const groups = h(
    "fieldset",
    {},
    h("legend", {}, t("set_groups")),
    h("p", { class: "hint" }, t("set_groups_hint")),
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, [t("col_id"), t("col_name"), t("col_seats"), ""].map((x) => h("th", { scope: "col" }, x)))), groupsBody)),
    h("p", { class: "hint" }, t("set_groups_one")),
    draft ? button(t("set_group_add"), () => addGroup()) : null,
  );

  const system = radios(t("set_system"), "system", [
    ["list", t("set_system_list"), t("set_system_list_hint")],
    ["person", t("set_system_person"), t("set_system_person_hint")],
  ], st.voting_system);
  const votes = field(t("set_votes"), num(st.votes_per_voter, 1, 50), t("set_votes_hint"));
  const residual = radios(t("set_residual"), "residual", [
    ["largest_remainder", t("set_residual_lr"), t("set_residual_lr_hint")],
    ["highest_averages", t("set_residual_ha"), t("set_residual_ha_hint")],
  ], st.residual_method);
  const remThr = field(t("set_remainder_threshold"), h("input", { value: st.remainder_threshold, maxlength: "20", disabled: !draft }), t("set_remainder_threshold_hint"));
  const prefThr = field(t("set_preference_threshold"), h("input", { value: st.preference_threshold, maxlength: "20", disabled: !draft }), t("set_preference_threshold_hint"));
  const mVote = field(t("set_months_vote"), num(st.min_months_to_vote, 0, 120), t("set_months_vote_hint"));
  const mStand = field(t("set_months_stand"), num(st.min_months_to_stand, 0, 120), t("set_months_stand_hint"));
  const mAgency = field(t("set_agency"), num(st.agency_months, 0, 120), t("set_agency_hint"));
  const refDate = field(t("set_reference_date"), h("input", { type: "date", value: st.reference_date || "", disabled: !draft }), t("set_reference_date_hint"));
  const nomMax = field(t("set_nom_max"), num(st.nomination?.max_per_voter, 1, 50), t("set_nom_max_hint"));
  const revote = checkbox(t("set_revote"), st.revoting_allowed, t("set_revote_hint"));
  revote.input.disabled = !draft;
  const batch = field(t("set_batch"), num(st.batch_size, 5, 1000), t("set_batch_hint"));
  const retention = field(t("set_retention"), num(st.retention_days, 0, 3660), t("set_retention_hint"));
  for (const r of [sizeMode, system, residual]) for (const i of r.inputs) i.disabled = !draft;
  const consultation = st.kind === "consultation";
  const qe = consultation ? questionsEditor(st.questions, draft) : null;
  const minGroup = field(t("set_min_group"), num(st.min_group_size, 2, 1000), t("set_min_group_hint"));

  // The schedule: may change after the draft too.
  const local = (iso) => {
    if (!iso) return "";
    const d = new Date(iso);
    const p = (x) => String(x).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  };
  const sched = {};
  const schedRows = ["nomination", "candidacy", "voting"].map((p) => {
    const cur = (st.schedule || {})[p] || {};
    const a = field(t("set_start", { period: t(`period_${p}`) }), h("input", { type: "datetime-local", value: local(cur.start) }));
    const b = field(t("set_end", { period: t(`period_${p}`) }), h("input", { type: "datetime-local", value: local(cur.end) }));
    sched[p] = [a.input, b.input];
    return h("div", { class: "pair" }, a.row, b.row);
  });

  const form = h(
    "form",
    { novalidate: true },
    card(
      h("h2", {}, t("set_title")),
      h("p", {}, draft ? t("set_intro") : t("set_intro_locked")),
      works ? [sizeMode.row, seats.row, headcount.row] : null,
      groups,
      works ? [system.row, votes.row, residual.row, remThr.row, prefThr.row] : null,
    ),
    card(h("h2", {}, t("set_who")), mVote.row, mStand.row, mAgency.row, refDate.row, works ? nomMax.row : null),
    card(h("h2", {}, t("set_schedule")), h("p", { class: "hint" }, t("set_schedule_hint")), schedRows),
    qe ? qe.el : null,
    card(h("h2", {}, t("set_vote")), revote.row, batch.row, retention.row, consultation ? minGroup.row : null),
    out.el,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("set_save"))),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const next = structuredClone(st);
    const int = (i) => (i.value === "" ? null : Number(i.value));
    if (draft) {
      if (works) {
        next.seats = sizeMode.value() === "seats" ? int(seats.input) : null;
        next.headcount = sizeMode.value() === "headcount" ? int(headcount.input) : null;
        next.voting_system = system.value();
        next.votes_per_voter = int(votes.input);
        next.residual_method = residual.value();
        next.remainder_threshold = remThr.input.value.trim() || "0";
        next.preference_threshold = prefThr.input.value.trim() || "1/2";
        next.nomination = { ...(next.nomination || {}), max_per_voter: int(nomMax.input) ?? 3 };
      }
      next.kiesgroepen = [...groupsBody.children].map((tr) => tr.read()).filter((g) => g.id || g.name);
      // One kiesgroep elects every seat: its number follows from the seats or the headcount.
      if (next.kiesgroepen.length === 1) next.kiesgroepen[0].seats = null;
      next.min_months_to_vote = int(mVote.input) ?? 0;
      next.min_months_to_stand = int(mStand.input) ?? 0;
      next.agency_months = int(mAgency.input) ?? 0;
      next.reference_date = refDate.input.value || null;
      next.revoting_allowed = revote.input.checked;
      next.batch_size = int(batch.input) ?? 20;
      next.retention_days = int(retention.input) ?? 90;
      if (consultation) {
        next.questions = qe.read();
        next.min_group_size = int(minGroup.input) ?? 10;
      }
    }
    qe?.clearErrors();
    next.schedule = {};
    for (const [p, [a, b]] of Object.entries(sched)) {
      if (a.value || b.value) next.schedule[p] = { start: a.value ? new Date(a.value).toISOString() : null, end: b.value ? new Date(b.value).toISOString() : null };
      else next.schedule[p] = null;
    }
    try {
      await api(e, "PUT", `/elections/${e}/settings`, { body: { settings: next } });
      say(t("set_saved"));
      ctx.reload();
    } catch (err) {
      out.show(errorBox(err));
      // An error that names a question is shown at that question too, and gets the focus.
      const at = qe && err instanceof ApiError ? qe.showErrors(err.problem.errors) : null;
      (at || out.el.querySelector("[role=alert]"))?.focus();
    }
  });
  return form;
}

// ----- the roll

async function rollView(ctx) {
  const { e } = ctx;
  const out = outcome();
  let sum = null;
  try {
    sum = (await api(e, "GET", `/elections/${e}/roll`)).json;
  } catch (err) {
    out.show(errorBox(err));
  }
  const file = field(t("roll_file"), h("input", { type: "file", accept: ".csv,.json,text/csv,application/json" }), t("roll_file_hint"));
  const diff = outcome();
  let pending = null;
  const read = async () => {
    const f = file.input.files[0];
    if (!f) throw new ApiError(400, { title: t("roll_no_file") });
    const type = /\.json$/i.test(f.name) || f.type === "application/json" ? "application/json" : "text/csv";
    return { data: await f.arrayBuffer(), type };
  };
  const showDiff = (r, applied) => {
    const who = (list) => list.map((v) => [v.employee_number, v.name, v.kiesgroep || (v.fields || []).join(", ")]);
    diff.show(
      h(
        "div",
        { class: `note ${applied ? "ok" : ""}`, role: "status" },
        h("p", {}, applied ? t("roll_applied") : t("roll_dry")),
        facts([
          [t("roll_rows"), r.rows],
          [t("roll_added"), r.added],
          [t("roll_removed"), r.removed],
          [t("roll_changed"), r.changed],
          [t("roll_unchanged"), r.unchanged],
        ]),
      ),
      table(t("roll_per_group"), [t("col_kiesgroep"), t("col_count")], Object.entries(r.per_kiesgroep || {}).map(([g, n]) => [g, typeof n === "object" ? JSON.stringify(n) : String(n)])),
      r.added_voters.length ? table(t("roll_added_who"), [t("col_number"), t("col_name"), t("col_kiesgroep")], who(r.added_voters)) : null,
      r.removed_voters.length ? table(t("roll_removed_who"), [t("col_number"), t("col_name"), t("col_kiesgroep")], who(r.removed_voters)) : null,
      r.changed_voters.length ? table(t("roll_changed_who"), [t("col_number"), t("col_name"), t("col_fields")], who(r.changed_voters)) : null,
      r.details_truncated ? note("warn", t("roll_truncated")) : null,
      !applied
        ? action(t("roll_apply"), async () => {
            try {
              const res = await api(e, "POST", `/elections/${e}/roll/import`, { raw: pending });
              showDiff(res.json, true);
              say(t("roll_applied"));
              // The button is gone with the dry run: the focus goes to what happened.
              diff.el.querySelector("[role=status]")?.focus();
            } catch (err) {
              diff.show(errorBox(err));
              diff.el.querySelector("[role=alert]")?.focus();
            }
          }, "primary")
        : h("p", {}, h("a", { href: `#/e/${encodeURIComponent(e)}/voters` }, t("nav_voters"))),
    );
  };
  const check = action(t("roll_check"), async () => {
    try {
      pending = await read();
      const r = await api(e, "POST", `/elections/${e}/roll/import?dry_run=true`, { raw: pending });
      showDiff(r.json, false);
      say(t("roll_dry"));
    } catch (err) {
      diff.show(errorBox(err));
      diff.el.querySelector("[role=alert]")?.focus();
    }
  }, "primary");
  const counts = sum
    ? table(t("roll_counts"), [t("col_kiesgroep"), t("col_count")], Object.entries(sum.counts || {}).map(([g, n]) => [g, typeof n === "object" ? Object.entries(n).map(([k, v]) => `${k}: ${v}`).join(", ") : String(n)]), t("roll_empty"))
    : null;
  return [
    card(
      h("h2", {}, t("roll_state")),
      sum
        ? facts([
            [t("roll_frozen"), sum.frozen ? t("roll_frozen_yes") : t("roll_frozen_no")],
            [t("roll_imports"), sum.imports],
            [t("roll_reference"), sum.reference_date],
            [t("roll_objections_open"), h("a", { href: `#/e/${encodeURIComponent(e)}/voters` }, String(sum.open_objections))],
          ])
        : null,
      counts,
      out.el,
      sum && !sum.frozen
        ? h(
            "div",
            {},
            note("warn", t("roll_freeze_warning")),
            action(t("roll_freeze"), async () => {
              if (!confirm(t("roll_freeze_confirm"))) return;
              try {
                await api(e, "POST", `/elections/${e}/roll/freeze`);
                say(t("roll_frozen_yes"));
                ctx.reload();
              } catch (err) {
                out.show(errorBox(err));
              }
            }),
          )
        : null,
    ),
    sum && !sum.frozen ? card(h("h2", {}, t("roll_upload")), h("p", {}, t("roll_upload_intro")), h("pre", { class: "proof" }, "employee_number,name,email,kiesgroep,employment_start,agency_worker"), file.row, check, diff.el) : null,
  ];
}

// ----- voters, overrides and objections

async function votersView(ctx, arg) {
  const { e, el } = ctx;
  const params = new URLSearchParams(arg || "");
  const start = Number(params.get("start") || 0);
  const q = params.get("q") || "";
  const out = outcome();
  const page = (await api(e, "GET", `/elections/${e}/roll/voters${query({ q, start, limit: 50 })}`)).json;
  const search = field(t("voters_search"), h("input", { type: "search", value: q, maxlength: "100" }), t("voters_search_hint"));
  const sform = h("form", { role: "search", novalidate: true }, search.row, h("button", { type: "submit" }, t("voters_search_button")));
  sform.addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(`#/e/${encodeURIComponent(e)}/voters/${new URLSearchParams({ q: search.input.value.trim() })}`);
  });
  const detail = h("div", {});
  const open = async (v) => {
    const d = (await api(e, "GET", `/elections/${e}/roll/voters/${v.id}`)).json;
    const vote = select([["", t("override_none")], ["true", t("yes")], ["false", t("no")]], d.vote_override === null ? "" : String(d.vote_override));
    const stand = select([["", t("override_none")], ["true", t("yes")], ["false", t("no")]], d.stand_override === null ? "" : String(d.stand_override));
    const vf = field(t("override_vote"), vote);
    const sf = field(t("override_stand"), stand);
    const reason = field(t("override_reason"), h("textarea", { rows: "2", maxlength: "500", required: true }, d.override_reason || ""), t("override_reason_hint"));
    const res = outcome();
    const asBool = (x) => (x === "" ? null : x === "true");
    detail.replaceChildren(
      card(
        h("h2", { id: "voter-title", tabindex: "-1" }, `${d.name} (${d.employee_number})`),
        facts([
          [t("col_kiesgroep"), d.kiesgroep],
          [t("voter_service"), t("months", { n: d.months_of_service })],
          [t("voter_agency"), yesNo(d.agency_worker)],
          [t("col_may_vote"), yesNo(d.may_vote)],
          [t("col_may_stand"), yesNo(d.may_stand)],
        ]),
        h("h3", {}, t("voter_reasons")),
        h("ul", {}, (d.reasons || []).map((r) => h("li", {}, typeof r === "string" ? r : r.text || r[lang] || JSON.stringify(r)))),
        h("h3", {}, t("override_title")),
        h("p", { class: "hint" }, t("override_intro")),
        vf.row,
        sf.row,
        reason.row,
        res.el,
        action(t("override_save"), async () => {
          const body = { may_vote: asBool(vote.value), may_stand: asBool(stand.value), reason: reason.input.value.trim() };
          if (!body.reason) {
            res.show(note("bad", t("reason_required"), { role: "alert" }));
            return reason.input.focus();
          }
          try {
            await api(e, "PUT", `/elections/${e}/roll/voters/${d.id}/override`, { body });
            say(t("override_saved"));
            res.show(note("ok", t("override_saved"), { role: "status" }));
          } catch (err) {
            res.show(errorBox(err));
          }
        }, "primary"),
      ),
    );
    document.getElementById("voter-title").focus();
  };
  const rows = page.items.map((v) => [
    v.employee_number,
    v.name,
    v.kiesgroep,
    yesNo(v.may_vote),
    yesNo(v.may_stand),
    v.override_reason ? t("voters_overridden") : "—",
    button(t("voters_open"), () => open(v).catch((err) => detail.replaceChildren(errorBox(err))), "", { "aria-label": `${t("voters_open")}: ${v.name}` }),
  ]);
  const nav = (s) => `#/e/${encodeURIComponent(e)}/voters/${new URLSearchParams({ q, start: s })}`;
  const pager = h(
    "p",
    { class: "actions" },
    h("span", {}, t("paged", { from: page.total ? start + 1 : 0, to: start + page.items.length, total: page.total })),
    start > 0 ? h("a", { href: nav(Math.max(0, start - 50)), class: "button" }, t("previous")) : null,
    page.next !== null ? h("a", { href: nav(page.next), class: "button" }, t("next")) : null,
  );

  // Objections: open first.
  let objections = [];
  try {
    objections = (await api(e, "GET", `/elections/${e}/roll/objections`)).json.items;
  } catch (err) {
    out.show(errorBox(err));
  }
  const objRows = objections.map((o) => {
    if (o.status !== "open") return [fmtDate(o.created_at), `${o.voter.name} (${o.voter.employee_number})`, o.text, o.resolution || "—", "—"];
    const ta = h("textarea", { rows: "2", maxlength: "1000", "aria-label": t("objection_resolution_for", { name: o.voter.name }) });
    return [
      fmtDate(o.created_at),
      `${o.voter.name} (${o.voter.employee_number})`,
      o.text,
      ta,
      action(t("objection_resolve"), async () => {
        if (!ta.value.trim()) {
          out.show(note("bad", t("reason_required"), { role: "alert" }));
          return ta.focus();
        }
        try {
          await api(e, "POST", `/elections/${e}/roll/objections/${o.id}/resolve`, { body: { resolution: ta.value.trim() } });
          say(t("objection_resolved"));
          ctx.reload();
        } catch (err) {
          out.show(errorBox(err));
        }
      }, "", { "aria-label": `${t("objection_resolve")}: ${o.voter.name}` }),
    ];
  });
  return [
    card(
      h("h2", {}, t("voters_title")),
      h("p", {}, el.status === "draft" || el.status === "nomination" || el.status === "candidacy" ? t("voters_intro") : t("voters_intro_late")),
      sform,
      table(t("voters_title"), [t("col_number"), t("col_name"), t("col_kiesgroep"), t("col_may_vote"), t("col_may_stand"), t("col_override"), ""], rows, t("roll_empty")),
      pager,
    ),
    detail,
    card(h("h2", {}, t("objections_title")), h("p", {}, t("objections_intro")), table(t("objections_title"), [t("col_date"), t("col_voter"), t("col_objection"), t("col_resolution"), ""], objRows, t("objections_none")), out.el),
  ];
}

// ----- invitations

async function invitationsView(ctx, arg) {
  const { e } = ctx;
  const filter = new URLSearchParams(arg || "").get("status") || "";
  const text = {
    dates: field(t("inv_dates"), h("input", { maxlength: "200" }), t("inv_dates_hint")),
    helpdesk: field(t("inv_helpdesk"), h("input", { maxlength: "200" }), t("inv_helpdesk_hint")),
    note: field(t("inv_note"), h("textarea", { rows: "3", maxlength: "2000" }), t("inv_note_hint")),
  };
  const only = checkbox(t("inv_without_code_only"), true, t("inv_without_code_only_hint"));
  const body = () => {
    const x = {};
    for (const [k, f] of Object.entries(text)) if (f.input.value.trim()) x[k] = f.input.value.trim();
    return x;
  };
  const res = outcome();
  const preview = action(t("inv_preview"), async () => {
    try {
      const r = (await api(e, "POST", `/elections/${e}/invitations/preview`, { body: body() })).json;
      res.show(h("div", { class: "note", role: "status" }, h("p", {}, h("strong", {}, t("inv_subject")), " ", r.subject), h("pre", { class: "proof" }, r.body)));
    } catch (err) {
      res.show(errorBox(err));
    }
  });
  const send = action(t("inv_send"), async () => {
    if (!confirm(t("inv_send_confirm"))) return;
    try {
      const r = await api(e, "POST", `/elections/${e}/invitations/send`, { body: { text: body(), without_code_only: only.input.checked } });
      const j = r.json;
      res.show(
        note(
          "ok",
          r.status === 202 ? t("inv_queued", { n: j.queued, without: j.without_email, already: j.already_queued }) : t("inv_sent", { n: j.sent, failed: j.failed, without: j.without_email }),
          { role: "status" },
        ),
      );
      say(t("inv_done"));
      statusCard().then((c) => statusWrap.replaceChildren(c));
    } catch (err) {
      res.show(errorBox(err));
    }
  }, "primary");

  // The per-voter status of the outbox (issue 15's contract); a 404 route: not on this server yet.
  const statusWrap = h("div", {});
  const statusCard = async () => {
    const out = outcome();
    let st;
    try {
      st = (await api(e, "GET", `/elections/${e}/invitations/status${query({ status: filter, limit: 200 })}`)).json;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.slug === "route-not-found") return card(h("h2", {}, t("inv_status")), note("", t("not_available")));
      return card(h("h2", {}, t("inv_status")), errorBox(err));
    }
    const resend = (ids, name) =>
      action(ids ? t("inv_resend_one") : t("inv_resend_failed"), async () => {
        try {
          const r = await api(e, "POST", `/elections/${e}/invitations/resend`, { body: { voter_ids: ids, failed_only: !ids, text: body() } });
          out.show(note("ok", t("inv_queued", { n: r.json.queued, without: r.json.without_email, already: r.json.already_queued }), { role: "status" }));
        } catch (err) {
          out.show(errorBox(err));
        }
      }, "", ids ? { "aria-label": `${t("inv_resend_one")}: ${name}` } : {});
    const filters = h(
      "p",
      { class: "actions" },
      ["", "queued", "sent", "failed"].map((s) =>
        h("a", { href: `#/e/${encodeURIComponent(e)}/invitations/${new URLSearchParams({ status: s })}`, class: "button", "aria-current": s === filter ? "page" : null }, s ? t(`mail_${s}`) : t("all")),
      ),
    );
    return card(
      h("h2", {}, t("inv_status")),
      facts(["queued", "sent", "failed"].map((s) => [t(`mail_${s}`), st.counts[s]])),
      filters,
      table(
        t("inv_status"),
        [t("col_number"), t("col_name"), t("col_email"), t("col_status"), t("col_attempts"), t("col_reason"), t("col_when"), ""],
        st.items.map((x) => [x.employee_number, x.name, x.email, t(`mail_${x.status}`), String(x.attempts), x.reason || "—", fmtDate(x.updated_at), x.status === "failed" ? resend([x.voter_id], x.name) : ""]),
        t("inv_status_none"),
      ),
      h(
        "p",
        { class: "actions" },
        st.counts.failed ? resend(null) : null,
        // The mail goes out in the background: the table shows it once asked again.
        action(t("refresh"), async () => {
          const c = await statusCard();
          statusWrap.replaceChildren(c);
          c.querySelector("h2").setAttribute("tabindex", "-1");
          c.querySelector("h2").focus();
          say(t("inv_status"));
        }),
      ),
      out.el,
    );
  };
  statusWrap.append(await statusCard());

  // The mail-merge export: new codes for the selected voters, once.
  const ex = outcome();
  const understood = checkbox(t("export_understood"), false);
  const exportCard = card(
    h("h2", {}, t("export_title")),
    note("warn", t("export_warning")),
    understood.row,
    action(t("export_button"), async () => {
      if (!understood.input.checked) {
        ex.show(note("bad", t("export_tick"), { role: "alert" }));
        return understood.input.focus();
      }
      try {
        const r = await api(e, "POST", `/elections/${e}/invitations/export`, { body: { without_code_only: true }, as: "blob" });
        saveBlob(r.blob, `stembus-${e}-codes.csv`);
        ex.show(note("ok", t("export_done"), { role: "status" }));
      } catch (err) {
        ex.show(errorBox(err));
      }
    }),
    ex.el,
  );
  return [
    card(h("h2", {}, t("inv_title")), h("p", {}, t("inv_intro")), text.dates.row, text.helpdesk.row, text.note.row, only.row, h("div", { class: "actions" }, preview, send), res.el),
    statusWrap,
    exportCard,
  ];
}

// ----- nominations

async function nominationsView(ctx) {
  const { e } = ctx;
  const out = outcome();
  let items = [];
  try {
    items = (await api(e, "GET", `/elections/${e}/nominations/ranking`)).json.items;
  } catch (err) {
    out.show(errorBox(err));
  }
  const rows = items.map((n, i) => [
    String(i + 1),
    n.name,
    n.kiesgroep,
    String(n.nominations),
    yesNo(n.may_stand),
    n.response ? t(`response_${n.response}`) : t("response_none"),
    n.motivations.length ? h("details", {}, h("summary", {}, t("motivations", { n: n.motivations.length })), h("ul", {}, n.motivations.map((m) => h("li", {}, m)))) : "—",
    n.approached
      ? t("approached")
      : action(t("approach"), async () => {
          try {
            await api(e, "POST", `/elections/${e}/nominations/nominees/${n.voter_id}/approached`);
            ctx.reload();
          } catch (err) {
            out.show(errorBox(err));
          }
        }, "", { "aria-label": `${t("approach")}: ${n.name}` }),
  ]);
  return card(
    h("h2", {}, t("nom_title")),
    h("p", {}, t("nom_intro")),
    out.el,
    table(t("nom_title"), ["#", t("col_name"), t("col_kiesgroep"), t("col_nominations"), t("col_may_stand"), t("col_response"), t("col_motivations"), ""], rows, t("nom_none")),
  );
}

// ----- lists

async function listsView(ctx) {
  const { e, el } = ctx;
  const out = outcome();
  let subs = [];
  let lists = { items: [], window_open: false };
  try {
    subs = (await api(e, "GET", `/elections/${e}/submitters`)).json.items;
    lists = (await api(e, "GET", `/elections/${e}/lists`)).json;
  } catch (err) {
    out.show(errorBox(err));
  }
  const union = field(t("sub_union"), h("input", { maxlength: "100", required: true }), t("sub_union_hint"));
  const name = field(t("sub_name"), h("input", { maxlength: "200", required: true }));
  const email = field(t("sub_email"), h("input", { type: "email", maxlength: "320" }));
  const subOut = outcome();
  const subForm = h("form", { novalidate: true, "aria-labelledby": "sub-new" }, h("h3", { id: "sub-new" }, t("sub_new")), union.row, name.row, email.row, subOut.el, h("button", { type: "submit" }, t("sub_button")));
  const showCode = (s) =>
    subOut.show(h("div", { class: "note warn", role: "status", tabindex: "-1" }, h("p", {}, t("code_once", { name: `${s.union} (${s.name})` })), h("p", {}, h("code", { class: "big-code" }, s.access_code)), h("p", {}, t("sub_code_warning"))));
  subForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api(e, "POST", `/elections/${e}/submitters`, { body: { union: union.input.value.trim(), name: name.input.value.trim(), email: email.input.value.trim() || null } });
      showCode(r.json);
      subOut.el.querySelector("[role=status]").focus();
    } catch (err) {
      subOut.show(errorBox(err));
    }
  });
  const subRows = subs.map((s) => [
    s.union,
    s.name,
    s.email || "—",
    yesNo(s.active),
    action(t("member_new_code"), async () => {
      if (!confirm(t("member_new_code_confirm", { name: s.union }))) return;
      try {
        showCode({ ...s, ...(await api(e, "POST", `/elections/${e}/submitters/${s.id}/code`)).json });
      } catch (err) {
        subOut.show(errorBox(err));
      }
    }, "", { "aria-label": `${t("member_new_code")}: ${s.union}` }),
  ]);

  const listCards = lists.items.map((l) => {
    const res = outcome();
    const reason = h("textarea", { rows: "2", maxlength: "500", id: `reject-${l.id}` });
    const decide = (accept) =>
      action(accept ? t("list_accept") : t("list_reject"), async () => {
        const body = { accept, reason: accept ? null : reason.value.trim() };
        if (!accept && !body.reason) {
          res.show(note("bad", t("reason_required"), { role: "alert" }));
          return reason.focus();
        }
        try {
          await api(e, "POST", `/elections/${e}/lists/${l.id}/validation`, { body });
          say(accept ? t("list_accepted") : t("list_rejected"));
          ctx.reload();
        } catch (err) {
          res.show(errorBox(err));
        }
      }, accept ? "primary" : "", { "aria-label": `${accept ? t("list_accept") : t("list_reject")}: ${l.name}` });
    return h(
      "section",
      { class: "card list", "aria-labelledby": `list-${l.id}` },
      h("h3", { id: `list-${l.id}` }, `${l.name} · ${l.kiesgroep}`),
      facts([
        [t("col_status"), t(`list_${l.status}`)],
        [t("list_kind"), t(`list_kind_${l.kind}`)],
        [t("list_by"), l.submitted_by],
        [t("list_submitted"), fmtDate(l.submitted_at)],
        l.rejection_reason ? [t("list_reason"), l.rejection_reason] : null,
      ]),
      table(
        t("list_candidates", { name: l.name }),
        ["#", t("col_name"), t("col_consent"), t("col_problems")],
        l.candidates.map((c) => [String(c.position), c.name, c.consent === null ? t("consent_none") : c.consent ? t("consent_yes") : t("consent_no"), c.problems.join("; ") || "—"]),
        t("list_no_candidates"),
      ),
      l.status === "submitted"
        ? h("div", {}, decide(true), h("label", { for: `reject-${l.id}` }, t("list_reject_reason")), reason, decide(false))
        : null,
      res.el,
    );
  });

  let person = null;
  if (el.settings.voting_system === "person") {
    // The order stored for this election (alphabetical until the committee chooses).
    let stored = { order: "alphabetical", lot_seed: null };
    const po = outcome();
    try {
      stored = (await api(e, "GET", `/elections/${e}/lists/person-order`)).json;
    } catch (err) {
      po.show(errorBox(err));
    }
    const order = select([["alphabetical", t("order_alphabetical")], ["lot", t("order_lot")]], stored.order);
    const of = field(t("order_title"), order, t("order_hint"));
    person = card(
      h("h2", {}, t("order_title")),
      h("p", { "data-stored-order": stored.order }, t("order_stored", { order: t(`order_${stored.order}`) })),
      stored.lot_seed ? h("p", {}, t("order_seed", { seed: stored.lot_seed })) : null,
      of.row,
      action(t("order_save"), async () => {
        try {
          const r = (await api(e, "PUT", `/elections/${e}/lists/person-order`, { body: { order: order.value } })).json;
          po.show(note("ok", r.lot_seed ? t("order_saved_seed", { seed: r.lot_seed }) : t("order_saved"), { role: "status" }));
        } catch (err) {
          po.show(errorBox(err));
        }
      }),
      po.el,
    );
  }
  const pub = outcome();
  const publish = transitionButtons(ctx, pub, ["lists_published"]);
  return [
    card(h("h2", {}, t("sub_title")), h("p", {}, t("sub_intro")), table(t("sub_title"), [t("col_union"), t("col_name"), t("col_email"), t("col_active"), ""], subRows, t("sub_none")), subForm),
    card(h("h2", {}, t("lists_title")), h("p", {}, lists.window_open ? t("lists_open") : t("lists_closed")), out.el, listCards.length ? listCards : h("p", { class: "hint" }, t("lists_none"))),
    person,
    card(h("h2", {}, t("publish_title")), h("p", {}, t("publish_intro")), publish.length ? publish : h("p", { class: "hint" }, t("publish_not_now")), pub.el),
  ];
}

// ----- preparing the vote, open and close, turnout

async function votingView(ctx) {
  const { e, el } = ctx;
  let keys = null;
  let problem = null;
  try {
    keys = (await call("GET", `/elections/${e}/voting/keys`)).json;
  } catch (err) {
    if (!(err instanceof ApiError && err.slug === "keys-not-prepared")) problem = err;
  }
  const trustees = keys?.entry?.trustees;
  const out = outcome();
  const cmd = `stembus ceremony --election ${e} -k 3 -n 5 --out shares --url ${location.origin}`;
  const turnoutWrap = h("div", {});
  const drawTurnout = async () => {
    try {
      const tu = (await api(e, "GET", `/elections/${e}/voting/turnout`)).json;
      const pct = (a, b) => (b ? `${Math.round((1000 * a) / b) / 10} %` : "—");
      turnoutWrap.replaceChildren(
        h(
          "section",
          { class: "card", id: "refreshing", "aria-labelledby": "turnout-title" },
          h("h2", { id: "turnout-title" }, t("turnout_title")),
          h("p", { class: "hint" }, t("turnout_intro", { at: fmtDate(new Date().toISOString()) })),
          table(
            t("turnout_title"),
            [t("col_kiesgroep"), t("col_eligible"), t("col_credentials"), t("col_voted"), t("col_turnout")],
            [
              ...tu.groups.map((g) => [g.group, String(g.eligible), String(g.credentials_issued), String(g.voted), pct(g.voted, g.eligible)]),
              [h("strong", {}, t("total")), String(tu.groups.reduce((n, g) => n + g.eligible, 0)), String(tu.credentials_issued), String(tu.voted), pct(tu.voted, tu.groups.reduce((n, g) => n + g.eligible, 0))],
            ],
          ),
          button(t("refresh"), drawTurnout),
        ),
      );
    } catch (err) {
      turnoutWrap.replaceChildren(card(h("h2", {}, t("turnout_title")), errorBox(err)));
    }
  };
  if (["voting", "closed", "tallied"].includes(el.status)) {
    await drawTurnout();
    if (el.status === "voting") every(15000, drawTurnout);
  }
  return [
    card(
      h("h2", {}, t("prep_title")),
      h("p", {}, t("prep_intro")),
      keys
        ? note("ok", t("prep_done", { k: trustees?.k ?? "?", n: trustees?.n ?? "?" }), { role: "status" })
        : problem
          ? errorBox(problem)
          : note("warn", t("prep_missing"), { role: "status" }),
      keys ? null : [h("p", {}, t("prep_how")), h("pre", { class: "proof" }, cmd), h("p", { class: "hint" }, t("prep_how_hint"))],
    ),
    card(h("h2", {}, t("open_close_title")), h("p", {}, t(`open_close_${el.status}`) || ""), h("div", { class: "actions" }, transitionButtons(ctx, out, ["voting", "closed"])), out.el),
    turnoutWrap,
  ];
}

// ----- the tally, results and downloads

async function resultsView(ctx) {
  const { e, el, s } = ctx;
  const out = outcome();
  let tally = null;
  try {
    tally = (await call("GET", `/elections/${e}/tally`)).json;
  } catch (err) {
    out.show(errorBox(err));
  }
  const download = (label, path, name, who) =>
    action(label, async () => {
      try {
        const r = who ? await api(who, "GET", path, { as: "blob" }) : await call("GET", path, { as: "blob" });
        saveBlob(r.blob, name);
        out.show(note("ok", t("downloaded", { name }), { role: "status" }));
      } catch (err) {
        out.show(errorBox(err));
      }
    });
  const tallied = el.status === "tallied";
  return [
    card(
      h("h2", {}, t("tally_title")),
      h("p", {}, t("tally_intro")),
      tally
        ? facts([
            [t("col_phase"), phaseName(tally.status)],
            [t("tally_shares"), tally.k ? t("tally_shares_of", { received: tally.received, k: tally.k, n: tally.n }) : "—"],
            tally.message ? [t("tally_message"), tally.message] : null,
          ])
        : null,
      el.status === "closed" ? h("p", {}, t("tally_trustees"), " ", h("a", { href: `/elections/${encodeURIComponent(e)}/trustee` }, t("trustee_page"))) : null,
    ),
    card(
      h("h2", {}, t("results_title")),
      tallied ? h("p", {}, t("results_intro")) : h("p", {}, t("results_not_yet")),
      tallied
        ? h(
            "div",
            { class: "actions" },
            h("a", { class: "button primary", href: `/api/v1/elections/${encodeURIComponent(e)}/results/page?lang=${lang}` }, t("results_page")),
            s.roles.includes("committee") ? download(t("results_pv"), `/elections/${e}/results/proces-verbaal?lang=${lang}`, `proces-verbaal-${e}.pdf`, e) : null,
            download(t("results_record"), `/elections/${e}/record`, `stembus-${e}-record.jsonl`),
          )
        : null,
      out.el,
    ),
  ];
}

// ----- the audit trail (committee and operator)

async function auditView(who, e, offset = 0) {
  const out = outcome();
  let page;
  try {
    page = (await api(who, "GET", `/elections/${e}/audit${query({ offset, limit: 50 })}`)).json;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.slug === "route-not-found") return card(h("h2", {}, t("audit_title")), note("", t("not_available"), { role: "status" }));
    return card(h("h2", {}, t("audit_title")), errorBox(err));
  }
  const wrap = card();
  const draw = (p, off) => {
    const actor = (a) => (a.role === "system" ? t("actor_system") : a.name ? `${a.name} (${t(`role_${a.role}`)})` : t(`role_${a.role}`));
    wrap.replaceChildren(
      h("h2", {}, t("audit_title")),
      h("p", {}, t("audit_intro")),
      table(
        t("audit_title"),
        [t("col_when"), t("col_who"), t("col_what"), t("col_subject"), t("col_reason")],
        p.items.map((a) => [fmtDate(a.at), actor(a.actor), t(`audit_${a.action}`) === `audit_${a.action}` ? a.action : t(`audit_${a.action}`), a.subject || "—", a.reason || "—"]),
        t("audit_none"),
      ),
      h(
        "p",
        { class: "actions" },
        h("span", {}, t("paged", { from: p.total ? off + 1 : 0, to: off + p.items.length, total: p.total })),
        off > 0 ? button(t("previous"), () => more(Math.max(0, off - 50))) : null,
        off + p.items.length < p.total ? button(t("next"), () => more(off + 50)) : null,
        action(t("audit_export"), async () => {
          try {
            saveBlob((await api(who, "GET", `/elections/${e}/audit/export`, { as: "blob" })).blob, `stembus-${e}-audit.csv`);
          } catch (err) {
            out.show(errorBox(err));
          }
        }),
      ),
      out.el,
    );
  };
  const more = async (off) => {
    try {
      draw((await api(who, "GET", `/elections/${e}/audit${query({ offset: off, limit: 50 })}`)).json, off);
      wrap.querySelector("h2").setAttribute("tabindex", "-1");
      wrap.querySelector("h2").focus();
    } catch (err) {
      out.show(errorBox(err));
    }
  };
  draw(page, offset);
  return wrap;
}

const VIEWS = {
  overview,
  settings: settingsView,
  members: (ctx) => membersCard(ctx.e, ctx.e, ctx.reload, ctx.s.subject?.replace(/^member:/, "")),
  roll: rollView,
  voters: votersView,
  invitations: invitationsView,
  nominations: nominationsView,
  lists: listsView,
  voting: votingView,
  results: resultsView,
  audit: (ctx) => auditView(ctx.e, ctx.e),
};

// ------------------------------------------------------------------ routing

async function route() {
  clearInterval(timer);
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const [where, id, section, ...rest] = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return "";
    }
  });
  try {
    if (where === "operator" && load(OPERATOR)) return await operatorHome();
    if (where === "op" && id && load(OPERATOR)) {
      if (section === "audit") {
        const el = (await call("GET", `/elections/${id}`)).json;
        return screen(`${t("audit_title")} – ${el.name}`, h("p", {}, h("a", { href: `#/op/${encodeURIComponent(id)}` }, t("op_back_election"))), await auditView("operator", id));
      }
      return await operatorElection(id);
    }
    if (where === "e" && id && load(memberKey(id))) return await committee(id, section || "overview", rest.join("/"));
    return start();
  } catch (err) {
    screen(t("error_title"), errorBox(err), h("p", {}, h("a", { href: "#/" }, t("to_start"))));
  }
}

window.addEventListener("hashchange", route);
route();
