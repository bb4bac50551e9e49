// The voter's pages: one script for every page of api/web, which serves the same HTML shell at
// each address; the path says which page this is. Everything comes from the public /api/v1 API
// and docs/client-protocol.md (proto.js), as for any third-party frontend. No inline style, no
// cookie; the login token, the credential and a pending ballot live in sessionStorage (this tab,
// this visit) and go to a file only when the voter asks.

import * as P from "./proto.js";
import { readShare } from "./share.js";
import { TEXTS } from "./texts.js";

const lang = document.documentElement.lang === "en" ? "en" : "nl";
const T = TEXTS[lang];
const t = (key, vars = {}) =>
  (T[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
const main = document.getElementById("main");
const live = document.getElementById("live");

// ------------------------------------------------------------------ DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const link = (path) => `${path}?lang=${lang}`;
const say = (text) => {
  live.textContent = "";
  setTimeout(() => {
    live.textContent = text;
  }, 50);
};

/** A new screen: its content replaces the old, the heading gets the focus (screen readers and
 * keyboard users start at the top of the new step). */
function screen(title, ...content) {
  const h1 = h("h1", { tabindex: "-1" }, title);
  main.replaceChildren(h1, ...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  document.title = `${title} – Stembus`;
  h1.focus();
  window.scrollTo(0, 0);
}
const card = (...c) => h("section", { class: "card" }, ...c);
const note = (cls, ...c) => {
  const attrs = c.length && c[0] && typeof c[0] === "object" && !(c[0] instanceof Node) && !Array.isArray(c[0]) ? c.shift() : {};
  return h("p", { ...attrs, class: `note ${cls}`.trim() }, ...c);
};
const button = (label, onclick, cls = "") => h("button", { type: "button", class: cls, onclick }, label);

function fmtDate(s) {
  if (!s) return t("soon");
  const d = new Date(s);
  return d.toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "Europe/Amsterdam",
  });
}

function download(name, text, label) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  return h("a", { href: url, download: name, class: "button" }, label);
}

function errorText(err) {
  if (err instanceof P.ProtocolError) return t("error_protocol");
  if (err instanceof P.ApiError) return t("error_generic", { detail: err.problem.title || err.status });
  return t("error_network");
}

function showError(err, again) {
  console.error(err);
  screen(
    t("error_title"),
    note("bad", { role: "alert" }, errorText(err)),
    again ? button(t("retry"), again) : null,
    electionId ? h("p", {}, h("a", { href: link(`/elections/${electionId}`) }, t("back_home"))) : null,
  );
}

// ------------------------------------------------------------------ state (this tab only)

const store = {
  get(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key) || "null");
    } catch {
      return null;
    }
  },
  set(key, value) {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  },
};
const loginKey = (e) => `stembus:${e}:login`;
const boothKey = (e) => `stembus:${e}:booth`;

function currentLogin(e) {
  const l = store.get(loginKey(e));
  if (!l || new Date(l.expires_at) <= new Date()) return null;
  return l;
}

/** The login form; resolves with the login once the code is accepted. The code may come in the
 * address's fragment (#code=…), which the browser never sends to the server. */
function loginForm(e, intro, why = t("login_intro")) {
  let resolve;
  const done = new Promise((r) => {
    resolve = r;
  });
  {
    const fromLink = new URLSearchParams(location.hash.slice(1)).get("code") || "";
    if (fromLink) history.replaceState(null, "", location.pathname + location.search);
    const msg = h("p", { id: "login-error", class: "note bad", role: "alert", hidden: true });
    const input = h("input", {
      id: "code",
      name: "code",
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      required: true,
      maxlength: "40",
      "aria-describedby": "code-hint login-error",
      value: fromLink,
    });
    const form = h(
      "form",
      { class: "card", novalidate: true },
      h("h2", {}, t("login_title")),
      intro ? h("p", {}, intro) : null,
      h("p", {}, why),
      h("label", { for: "code" }, t("login_label")),
      h("p", { id: "code-hint", class: "hint" }, t("login_hint")),
      input,
      msg,
      h("p", {}, h("button", { type: "submit", class: "primary" }, t("login_button"))),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      msg.hidden = true;
      try {
        const r = await P.call("POST", `/elections/${e}/login`, { body: { code: input.value.trim().toUpperCase() } });
        store.set(loginKey(e), r.json);
        say(t("logged_in"));
        resolve(r.json);
      } catch (err) {
        msg.textContent =
          err instanceof P.ApiError && err.slug === "invalid-access-code"
            ? t("login_wrong")
            : err instanceof P.ApiError && err.slug === "rate-limited"
              ? t("login_slow", { n: err.problem.retry_after || 60 })
              : errorText(err);
        msg.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    });
    return { form, done };
  }
}

async function needLogin(e, title, intro) {
  const l = currentLogin(e);
  if (l) return l;
  const { form, done } = loginForm(e, intro);
  screen(title, form);
  return done;
}

/** A call with the login token; on an ended token, log in again and repeat. */
async function authed(e, method, path, body) {
  for (;;) {
    const l = currentLogin(e) || (await needLogin(e, t("login_title"), t("login_again")));
    try {
      return (await P.call(method, path, { body, token: l.access_token })).json;
    } catch (err) {
      if (err instanceof P.ApiError && (err.slug === "token-revoked" || err.slug === "unauthenticated")) {
        store.set(loginKey(e), null);
        continue;
      }
      throw err;
    }
  }
}

// ------------------------------------------------------------------ pages

const parts = location.pathname.split("/").filter(Boolean);
const electionId = parts[0] === "elections" ? decodeURIComponent(parts[1] || "") : null;
const page = parts[0] === "elections" ? parts[2] || "landing" : "home";

function home() {
  const input = h("input", { id: "election", name: "election", required: true, maxlength: "64", autocomplete: "off" });
  const form = h(
    "form",
    { class: "card" },
    h("p", {}, t("home_how")),
    h("label", { for: "election" }, t("home_label")),
    input,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("home_go"))),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = input.value.trim().split("/").filter(Boolean).pop();
    if (id) location.assign(link(`/elections/${encodeURIComponent(id)}`));
  });
  screen(t("home_title"), h("p", { class: "lead" }, t("home_intro")), form);
}

const nextText = (el) => {
  const v = el.settings.schedule?.voting || {};
  return t(`next_${el.status}`, { start: fmtDate(v.start), end: fmtDate(v.end) });
};

async function landing(e, el) {
  const sched = el.settings.schedule || {};
  const dates = ["nomination", "candidacy", "voting"]
    .filter((p) => sched[p] && (sched[p].start || sched[p].end))
    .map((p) => h("li", {}, `${t(`period_${p}`)}: ${fmtDate(sched[p].start)} – ${fmtDate(sched[p].end)}`));
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, t("organisation")),
    h("dd", {}, el.organisation),
    h("dt", {}, t("phase")),
    h("dd", {}, t(`status_${el.status}`)),
  );
  const info = card(
    facts,
    dates.length ? [h("h2", {}, t("dates")), h("ul", {}, dates)] : null,
    h("h2", {}, t("next")),
    h("p", {}, nextText(el)),
  );
  const menu = () => {
    const items = [];
    if (el.status === "voting") items.push(["vote", t("go_vote"), "primary"]);
    items.push(["registration", t("go_registration")]);
    if (el.kind === "works_council" && ["nomination", "candidacy"].includes(el.status)) items.push(["nominations", t("go_nominations")]);
    if (el.kind === "works_council") items.push(["candidacies", t("go_candidacies")]);
    return card(
      h("h2", {}, t("my_pages")),
      h(
        "ul",
        { class: "menu" },
        items.map(([p, label, cls]) => h("li", {}, h("a", { href: link(`/elections/${e}/${p}`), class: `button ${cls || ""}` }, label))),
      ),
      h("p", {}, button(t("logout"), () => {
        store.set(loginKey(e), null);
        store.set(boothKey(e), null);
        landing(e, el);
      })),
    );
  };
  const publicLinks = card(
    h(
      "ul",
      { class: "links" },
      h("li", {}, h("a", { href: link(`/elections/${e}/receipt`) }, t("go_receipt"))),
      ["closed", "tallied"].includes(el.status)
        ? h("li", {}, h("a", { href: `/api/v1/elections/${e}/results/page?lang=${lang}` }, t("go_results")))
        : null,
      el.status === "closed" ? h("li", {}, h("a", { href: link(`/elections/${e}/trustee`) }, t("go_trustee"))) : null,
    ),
  );
  const logged = currentLogin(e);
  if (logged || ["draft", "cancelled"].includes(el.status)) {
    screen(el.name, info, logged ? menu() : null, publicLinks);
    return;
  }
  const { form, done } = loginForm(e);
  screen(el.name, info, form, publicLinks);
  await done;
  landing(e, el);
}

async function registration(e, el) {
  await needLogin(e, t("reg_title"));
  const r = await authed(e, "GET", `/elections/${e}/me/registration`);
  const groupName = (el.settings.kiesgroepen || []).find((g) => g.id === r.kiesgroep)?.name || r.kiesgroep;
  const objections = r.objections || [];
  const objectionPart = () => {
    if (!r.can_object) return note("", r.roll_frozen ? t("reg_frozen") : "");
    const text = h("textarea", { id: "objection", name: "objection", rows: "4", maxlength: "2000", required: true });
    const msg = h("p", { role: "status", class: "note", hidden: true });
    const form = h(
      "form",
      {},
      h("p", {}, t("reg_object_intro")),
      h("label", { for: "objection" }, t("reg_object_label")),
      text,
      msg,
      h("p", {}, h("button", { type: "submit" }, t("reg_object_send"))),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) return text.focus();
      try {
        await authed(e, "POST", `/elections/${e}/me/objections`, { text: text.value.trim() });
        registration(e, el).then(() => say(t("reg_object_sent")));
      } catch (err) {
        msg.hidden = false;
        msg.textContent = errorText(err);
      }
    });
    return form;
  };
  screen(
    t("reg_title"),
    card(
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("reg_name")),
        h("dd", {}, r.name),
        h("dt", {}, t("reg_number")),
        h("dd", {}, r.employee_number),
        h("dt", {}, t("reg_group")),
        h("dd", {}, groupName),
        h("dt", {}, t("reg_start")),
        h("dd", {}, r.employment_start),
        h("dt", {}, t("reg_months", { date: r.reference_date })),
        h("dd", {}, r.months_of_service),
      ),
      h("p", { class: r.may_vote ? "ok" : "bad" }, r.may_vote ? t("reg_may_vote") : t("reg_may_not_vote")),
      el.kind === "works_council"
        ? h("p", { class: r.may_stand ? "ok" : "bad" }, r.may_stand ? t("reg_may_stand") : t("reg_may_not_stand"))
        : null,
      r.reasons.length ? [h("h2", {}, t("reg_reasons")), h("ul", {}, r.reasons.map((x) => h("li", {}, x)))] : null,
    ),
    card(h("h2", {}, t("reg_pseudonym")), h("p", {}, h("code", {}, r.pseudonym)), h("p", {}, t("reg_pseudonym_explain"))),
    card(
      h("h2", {}, t("reg_object_title")),
      objections.length
        ? [h("h3", {}, t("reg_objections")), h("ul", {}, objections.map((o) => h("li", {}, `${o.text} (${t(`objection_${o.status}`)})`)))]
        : null,
      objectionPart(),
    ),
    backLink(e),
  );
}

const backLink = (e) => h("p", {}, h("a", { href: link(`/elections/${e}`) }, t("back_home")));

async function nominations(e) {
  await needLogin(e, t("nom_title"));
  const n = await authed(e, "GET", `/elections/${e}/me/nominations`);
  const received = n.received === 0 ? t("nom_received_0") : n.received === 1 ? t("nom_received_1") : t("nom_received_n", { n: n.received });
  const status = h("p", { role: "status", class: "note", hidden: true });
  const respond = async (accept) => {
    await authed(e, "PUT", `/elections/${e}/me/nomination/response`, { accept });
    await nominations(e);
    say(accept ? t("nom_response_yes") : t("nom_response_no"));
  };
  const asked = n.approached
    ? card(
        h("p", {}, n.response === null ? t("nom_asked") : n.response === "accepted" ? t("nom_response_yes") : t("nom_response_no")),
        n.response === null ? h("p", { class: "actions" }, button(t("nom_accept"), () => respond(true), "primary"), button(t("nom_decline"), () => respond(false))) : null,
      )
    : null;
  const results = h("div", { id: "results" });
  const q = h("input", { id: "q", name: "q", maxlength: "100", autocomplete: "off" });
  const search = h("form", { role: "search" }, h("label", { for: "q" }, t("nom_search")), h("div", { class: "inline" }, q, h("button", { type: "submit" }, t("nom_search_button"))));
  search.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const found = (await authed(e, "GET", `/elections/${e}/colleagues?q=${encodeURIComponent(q.value.trim())}`)).items;
    results.replaceChildren(
      found.length
        ? h(
            "ul",
            { class: "people" },
            found.map((c) => {
              const id = `motivation-${c.id}`;
              const motivation = h("textarea", { id, rows: "2", maxlength: "1000" });
              return h(
                "li",
                {},
                h("label", { for: id }, t("nom_motivation", { name: c.name })),
                motivation,
                button(t("nom_button", { name: c.name }), async () => {
                  try {
                    await authed(e, "POST", `/elections/${e}/nominations`, { nominee_id: c.id, motivation: motivation.value.trim() || null });
                    await nominations(e);
                    say(t("nom_done", { name: c.name }));
                  } catch (err) {
                    status.hidden = false;
                    status.textContent = errorText(err);
                  }
                }),
              );
            }),
          )
        : h("p", {}, t("nom_none")),
    );
  });
  screen(
    t("nom_title"),
    card(h("p", {}, received), h("p", {}, t("nom_anonymous"))),
    asked,
    card(n.campaign_open ? [h("p", {}, t("nom_count", { made: n.made, max: n.max_per_voter })), n.remaining > 0 ? search : null, results] : h("p", {}, t("nom_closed")), status),
    backLink(e),
  );
}

async function candidacies(e) {
  await needLogin(e, t("cand_title"));
  const { items } = await authed(e, "GET", `/elections/${e}/me/candidacies`);
  const set = async (c, consent) => {
    try {
      await authed(e, "PUT", `/elections/${e}/me/candidacies/${c.candidate_id}/consent`, { consent });
      await candidacies(e);
      say(consent ? t("cand_yes") : t("cand_no"));
    } catch (err) {
      say(errorText(err));
    }
  };
  screen(
    t("cand_title"),
    items.length
      ? [
          h("p", {}, t("cand_one")),
          items.map((c) =>
            card(
              h("h2", {}, t("cand_item", { list: c.list_name, position: c.position })),
              h("p", {}, c.consent === true ? t("cand_yes") : c.consent === false ? t("cand_no") : t("cand_open")),
              h("p", { class: "actions" }, button(t("cand_consent"), () => set(c, true), "primary"), button(t("cand_decline"), () => set(c, false))),
            ),
          ),
        ]
      : card(h("p", {}, t("cand_none"))),
    backLink(e),
  );
}

// ------------------------------------------------------------------ receipt check

function parseProof(text) {
  const s = text.trim();
  if (s.startsWith("stembus/ballot-promise/v1")) return { promise: `${s}\n` };
  if (s.startsWith("c2sp.org/tlog-proof@v1")) return { tlog_proof: `${s}\n` };
  try {
    const j = JSON.parse(s);
    if (j && typeof j === "object") return j.receipt && typeof j.receipt === "object" ? j.receipt : j;
  } catch {
    /* not JSON */
  }
  return null;
}

function receiptCheck(e) {
  const file = h("input", { id: "proof-file", type: "file", accept: ".txt,.json,text/plain,application/json" });
  const text = h("textarea", { id: "proof-text", rows: "8", spellcheck: "false" });
  const out = h("div", { id: "check-result", role: "status" });
  const form = h(
    "form",
    { class: "card" },
    h("p", {}, t("check_intro")),
    h("label", { for: "proof-file" }, t("check_file")),
    file,
    h("label", { for: "proof-text" }, t("check_text")),
    text,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("check_button"))),
    out,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const raw = file.files && file.files[0] ? await file.files[0].text() : text.value;
    const body = raw.trim() ? parseProof(raw) : null;
    if (!body) {
      out.replaceChildren(note("bad", t("check_empty")));
      return;
    }
    try {
      const r = (await P.call("POST", `/elections/${e}/log/receipts/check`, { body })).json;
      let msg;
      if (r.in_log && r.signature_valid !== false && r.proof_valid !== false) msg = note("ok", t("check_ok", { index: r.index ?? r.receipt?.index ?? "?" }));
      else if (r.status === "pending") msg = note("", t("check_pending"));
      else if (r.status === "missing") msg = note("bad", t("check_missing"));
      else msg = note("bad", t("check_bad"));
      out.replaceChildren(msg);
    } catch (err) {
      out.replaceChildren(note("bad", err instanceof P.ApiError && err.status === 422 ? t("check_bad") : errorText(err)));
    }
  });
  screen(t("check_title"), form, backLink(e));
}

// ------------------------------------------------------------------ the trustee's page

const BEFORE_CLOSE = ["draft", "nomination", "candidacy", "lists_published", "voting"];
const resultsLink = (e) => h("p", {}, h("a", { href: `/api/v1/elections/${e}/results/page?lang=${lang}`, class: "button primary" }, t("tr_results")));
const needText = (need) => (need === 1 ? t("tr_need_1") : t("tr_need_n", { n: need }));

/** What the tally stands at, from the public GET …/tally. */
function tallyFacts(e, el, tally) {
  const end = el.settings.schedule?.voting?.end;
  const lines = [];
  if (BEFORE_CLOSE.includes(tally.status)) lines.push(h("p", {}, end ? t("tr_before_close", { end: fmtDate(end) }) : t("tr_before_close_nodate")));
  else if (tally.status === "cancelled") lines.push(h("p", {}, t("tr_cancelled")));
  else if (tally.status === "tallied") lines.push(h("p", { class: "ok" }, t("tr_tallied")), resultsLink(e));
  else if (!tally.k) lines.push(h("p", {}, t("tr_no_keys")));
  else {
    lines.push(h("p", {}, t("tr_count", { received: tally.received, k: tally.k })));
    lines.push(h("p", {}, tally.received < tally.k ? needText(tally.k - tally.received) : t("tr_enough_bad")));
    if (tally.indices.length) lines.push(h("p", {}, t("tr_indices", { list: tally.indices.join(", ") })));
  }
  return card(
    h("h2", {}, t("tr_status_title")),
    h("dl", { class: "facts" }, h("dt", {}, t("phase")), h("dd", {}, t(`status_${tally.status}`))),
    lines,
    tally.status === "tallied" || tally.status === "cancelled" ? null : h("p", {}, button(t("tr_refresh"), () => trustee(e, el).catch((err) => showError(err, () => trustee(e, el))))),
  );
}

function explainShares(tally) {
  const kn = tally.k ? { k: tally.k, n: tally.n } : null;
  return card(
    h("h2", {}, t("tr_what_title")),
    h("p", {}, kn ? t("tr_what_1", kn) : t("tr_what_1_nokeys")),
    h("p", {}, kn ? t("tr_what_2", kn) : t("tr_what_2_nokeys")),
    h("p", {}, t("tr_what_3")),
  );
}

/** The route's answer in plain words: what happened and what to do. */
function handInProblem(e, el, err, share) {
  // No answer, or the service failed (5xx): whether the share was stored is unknown, and
  // sending it again is safe.
  if (!(err instanceof P.ApiError) || err.status >= 500) return [t("tr_err_lost")];
  const end = el.settings.schedule?.voting?.end;
  switch (err.slug) {
    case "shares-not-accepted": {
      // Why it was refused is read from the tally's state (sendShare fetched it), not from
      // the problem's English detail text.
      const now = err.tally || {};
      if (now.status === "tallied") return [t("tr_err_tallied"), resultsLink(e)];
      if (now.status === "cancelled") return [t("tr_cancelled")];
      if (now.status === "closed" && !now.k) return [t("tr_no_keys")];
      return [end ? t("tr_err_not_closed", { end: fmtDate(end) }) : t("tr_err_not_closed_nodate")];
    }
    case "share-index-taken":
      return [t("tr_err_index_taken", { index: share.index })];
    case "invalid-share":
      return [t("tr_err_invalid")];
    case "forbidden":
      return [t("tr_not_trustee")];
    case "not-found":
      return [t("not_found")];
    case "rate-limited":
      return [t("tr_err_slow", { n: err.problem.retry_after || 60 })];
    default:
      return [errorText(err)];
  }
}

function handInForm(e, el, tally, published) {
  const file = h("input", { id: "share-file", name: "share-file", type: "file", accept: ".json,.txt,application/json,text/plain", "aria-describedby": "share-file-hint" });
  const area = h("textarea", { id: "share-text", name: "share-text", rows: "6", spellcheck: "false", autocomplete: "off", autocapitalize: "off", "aria-describedby": "share-text-hint share-check" });
  const checked = h("div", { id: "share-check", role: "status" });
  const out = h("div", { id: "hand-in-result" });
  const send = h("button", { type: "submit", class: "primary" }, t("tr_send"));
  const bad = (key, vars) => {
    checked.replaceChildren(note("bad", t(key, vars)));
    area.setAttribute("aria-invalid", "true");
  };
  const check = async () => {
    const s = await readShare(area.value, e, published);
    if (s.problem) bad(s.problem, s.vars);
    else {
      area.removeAttribute("aria-invalid");
      checked.replaceChildren(note("ok", t("tr_checked", s)));
    }
    return s;
  };
  file.addEventListener("change", () => {
    out.replaceChildren();
    const f = file.files && file.files[0];
    if (!f) return;
    if (f.size > MAX_FILE_BYTES) return bad("share_too_big");
    // Read here, in the browser: the file goes nowhere until the trustee presses send.
    const reader = new FileReader();
    reader.onload = () => {
      area.value = String(reader.result || "");
      check();
    };
    reader.onerror = () => bad("share_unreadable");
    reader.readAsText(f);
  });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, t("tr_form_title")),
    BEFORE_CLOSE.includes(tally.status) ? note("warn", t("tr_form_early")) : null,
    h("label", { for: "share-file" }, t("tr_file_label")),
    h("p", { id: "share-file-hint", class: "hint" }, t("tr_file_hint")),
    file,
    h("label", { for: "share-text" }, t("tr_text_label")),
    h("p", { id: "share-text-hint", class: "hint" }, t("tr_text_hint")),
    area,
    checked,
    h("p", {}, send),
    out,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const s = await check();
    if (s.problem) return area.focus();
    send.disabled = true;
    out.replaceChildren(h("p", { class: "busy", role: "status" }, t("tr_sending")));
    let st;
    try {
      st = await sendShare(e, s.text);
    } catch (err) {
      send.disabled = false;
      // Retry-safe: the same trustee sending the same share again only stores it again.
      const msg = note("bad", { role: "alert", tabindex: "-1" }, ...handInProblem(e, el, err, s));
      out.replaceChildren(msg);
      msg.focus();
      return;
    }
    const again = tally.indices.includes(s.index);
    const mineBad = (st.bad_shares || []).some((b) => b.index === s.index);
    const others = (st.bad_shares || []).filter((b) => b.index !== s.index).map((b) => b.index);
    let outcome;
    if (st.status === "tallied") outcome = { cls: "ok big", text: t("tr_in_tallied", { index: s.index }), results: true };
    else if (mineBad) outcome = { cls: "bad", text: t("tr_in_bad_mine", { index: s.index }) };
    else if (others.length) outcome = { cls: "warn", text: t("tr_in_bad_other", { index: s.index, list: others.join(", ") }) };
    else {
      const first = again ? t("tr_in_again", { index: s.index }) : t("tr_in", { index: s.index });
      outcome = { cls: "ok", text: `${first} ${t("tr_count", { received: st.received, k: st.k })} ${needText(st.k - st.received)} ${t("tr_keep")}` };
    }
    await trustee(e, el, outcome);
    say(outcome.text);
  });
  return form;
}
const MAX_FILE_BYTES = 64 * 1024;

/** POST the share with the login token. A trustee's token ends with the election (tallied or
 * cancelled: 401 token-revoked), so a refused token in an ended election is that phase's
 * answer — not a new login, which would be refused the same way. */
async function sendShare(e, text) {
  try {
    return await postShare(e, text);
  } catch (err) {
    if (err instanceof P.ApiError && err.slug === "shares-not-accepted" && !err.tally) {
      err.tally = await P.call("GET", `/elections/${e}/tally`).then((r) => r.json, () => null);
    }
    throw err;
  }
}

async function postShare(e, text) {
  const l = currentLogin(e);
  if (l) {
    try {
      return (await P.call("POST", `/elections/${e}/tally/shares`, { body: { share: text }, token: l.access_token })).json;
    } catch (err) {
      if (!(err instanceof P.ApiError && (err.slug === "token-revoked" || err.slug === "unauthenticated"))) throw err;
      const now = (await P.call("GET", `/elections/${e}/tally`)).json;
      if (now.status === "tallied" || now.status === "cancelled") {
        store.set(loginKey(e), null);
        const refused = new P.ApiError(409, { type: "/problems/shares-not-accepted", detail: `the election is ${now.status}` });
        refused.tally = now;
        throw refused;
      }
      store.set(loginKey(e), null);
    }
  }
  return authed(e, "POST", `/elections/${e}/tally/shares`, { share: text });
}

async function trustee(e, el, outcome = null) {
  const tally = (await P.call("GET", `/elections/${e}/tally`)).json;
  // The published sealing key, to tell a share file of another ceremony before it is sent.
  const keys = tally.k ? await P.call("GET", `/elections/${e}/voting/keys`).then((r) => r.json.entry, () => null) : null;
  const published = { k: tally.k, n: tally.n, sealingKey: keys ? keys.sealing_key : null };
  const top = [
    h("p", { class: "lead" }, t("tr_lead", { name: el.name })),
    outcome ? [note(outcome.cls, outcome.text), outcome.results ? resultsLink(e) : null] : null,
  ];
  const status = tallyFacts(e, el, tally);
  const explain = explainShares(tally);
  if (["tallied", "cancelled"].includes(tally.status)) return screen(t("tr_title"), top, explain, status, backLink(e));
  if (!currentLogin(e)) {
    const { form, done } = loginForm(e, null, t("tr_login_intro"));
    screen(t("tr_title"), top, explain, status, form, backLink(e));
    await done;
    return trustee(e, el);
  }
  const me = await authed(e, "GET", `/elections/${e}/me`);
  if (!me.roles.includes("trustee")) {
    const again = card(
      note("bad", { role: "alert" }, t("tr_not_trustee")),
      h("p", {}, button(t("tr_other_code"), () => {
        store.set(loginKey(e), null);
        store.set(boothKey(e), null);
        trustee(e, el).catch((err) => showError(err, () => trustee(e, el)));
      })),
    );
    return screen(t("tr_title"), top, again, explain, backLink(e));
  }
  screen(t("tr_title"), top, explain, status, handInForm(e, el, tally, published), backLink(e));
}

// ------------------------------------------------------------------ the booth

/** How each kind of question is shown and read back. A new question rule adds one renderer:
 * render(question, name) → {element, value() → [option ids], describe(ids) → text}. */
const optionText = (q, o) => (q.rule === "yes_no_abstain" ? t(`opt_${o.id}`) : o.text || o.id);

function choiceGroup({ name, id: prefix = name, legend, help, options, max, checked }) {
  // One fieldset of radio buttons (max 1) or check boxes (max > 1) that cannot take more than
  // `max` choices: at the maximum the other boxes are disabled, and the count is announced.
  const multi = max > 1;
  const count = h("p", { class: "count", "aria-live": "polite", id: `${prefix}-count` });
  const inputs = [];
  const list = h(
    "ul",
    { class: "choices" },
    options.map((o, i) => {
      const id = `${prefix}-${i}`;
      const input = h("input", {
        type: multi ? "checkbox" : "radio",
        id,
        name,
        value: o.value,
        checked: checked.includes(o.value),
      });
      inputs.push(input);
      return h("li", {}, input, h("label", { for: id }, o.label, o.sub ? h("span", { class: "sub" }, o.sub) : null));
    }),
  );
  const update = (announce) => {
    const n = inputs.filter((x) => x.checked && x.value !== "").length;
    if (multi) {
      for (const x of inputs) x.disabled = !x.checked && n >= max;
      count.textContent = n >= max ? t("count_full", { max }) : t("count_of", { n, max });
    }
    if (announce && !multi) say(t("count_of", { n, max }));
  };
  list.addEventListener("change", () => update(true));
  update(false);
  const fs = h("fieldset", { "aria-describedby": help ? `${prefix}-help` : null }, h("legend", {}, legend), help ? h("p", { class: "hint", id: `${prefix}-help` }, help) : null, multi ? count : null, list);
  return { element: fs, value: () => inputs.filter((x) => x.checked && x.value !== "").map((x) => x.value) };
}

const QUESTION_RULES = {
  single: (q, name, checked) =>
    choiceGroup({
      name,
      legend: q.text,
      help: t("ballot_choose_one"),
      max: 1,
      checked,
      options: [...q.options.map((o) => ({ value: o.id, label: optionText(q, o) })), { value: "", label: t("ballot_no_answer") }],
    }),
  up_to_k: (q, name, checked) =>
    choiceGroup({
      name,
      legend: q.text,
      help: t("ballot_choose_k", { n: Math.min(q.max_choices, q.options.length) }),
      max: Math.min(q.max_choices, q.options.length),
      checked,
      options: q.options.map((o) => ({ value: o.id, label: optionText(q, o) })),
    }),
};
QUESTION_RULES.yes_no_abstain = QUESTION_RULES.single;

/** A scale: a radio group of its points, the end labels in the labels of the two ends. */
QUESTION_RULES.scale = (q, name, checked) => {
  const [min, max] = [q.scale_min ?? 1, q.scale_max ?? 5];
  const points = [];
  for (let n = min; n <= max; n++) points.push(n);
  const label = (n) => (n === min ? t("scale_end", { n, label: q.min_label || "" }) : n === max ? t("scale_end", { n, label: q.max_label || "" }) : String(n));
  const g = choiceGroup({
    name,
    legend: q.text,
    help: t("scale_help", { min, max, min_label: q.min_label || "", max_label: q.max_label || "" }),
    max: 1,
    checked: checked.map(String),
    options: [...points.map((n) => ({ value: String(n), label: label(n) })), { value: "", label: t("ballot_no_answer") }],
  });
  return { element: g.element, value: () => g.value().map(Number) };
};

/** A ranking: one select per place, keyboard-operable as any select; an option taken by one
 * place is disabled in the others (no duplicates), empty places are allowed (a partial
 * ranking), and the new order is announced in the live region. */
QUESTION_RULES.ranking = (q, name, checked) => {
  const selects = q.options.map((_, i) =>
    h(
      "select",
      { id: `${name}-rank-${i + 1}`, name: `${name}-rank-${i + 1}` },
      h("option", { value: "" }, t("rank_empty")),
      q.options.map((o) => h("option", { value: o.id }, optionText(q, o))),
    ),
  );
  selects.forEach((s, i) => (s.value = checked[i] || ""));
  const value = () => selects.map((s) => s.value).filter(Boolean);
  const sync = () => {
    for (const s of selects) {
      const elsewhere = new Set(selects.filter((x) => x !== s).map((x) => x.value).filter(Boolean));
      for (const o of s.options) o.disabled = o.value !== "" && elsewhere.has(o.value);
    }
  };
  const order = () => {
    const v = value();
    return v.length ? t("rank_order", { order: v.map((id, i) => `${i + 1}. ${optionText(q, q.options.find((o) => o.id === id))}`).join(", ") }) : t("rank_order_none");
  };
  const status = h("p", { class: "count", id: `${name}-order` });
  const list = h(
    "ol",
    { class: "ranking" },
    selects.map((s, i) => h("li", {}, h("label", { for: s.id }, t("rank_position", { n: i + 1 })), s)),
  );
  list.addEventListener("change", (ev) => {
    // Two places can never hold the same answer (the other place is emptied, should a
    // browser let a disabled option through).
    for (const s of selects) if (s !== ev.target && ev.target.value && s.value === ev.target.value) s.value = "";
    sync();
    status.textContent = order();
    say(order());
  });
  sync();
  status.textContent = order();
  const fs = h("fieldset", { "aria-describedby": `${name}-help` }, h("legend", {}, q.text), h("p", { class: "hint", id: `${name}-help` }, t("rank_help")), list, status);
  return { element: fs, value };
};

/** An open answer: a textarea whose limit counts code points as the server does ([...text],
 * not the UTF-16 `length` the maxlength attribute counts), control characters but the line
 * feed removed, a visible counter announced politely, and the warning that the text is
 * published and may identify the voter. */
QUESTION_RULES.open = (q, name, checked) => {
  const max = q.max_length ?? 500;
  const id = `${name}-text`;
  const area = h("textarea", { id, name: id, rows: "4", "aria-describedby": `${name}-warn ${name}-help ${name}-count` });
  area.value = checked[0] || "";
  const count = h("p", { class: "count", id: `${name}-count`, "aria-live": "polite" });
  let timer = null;
  const update = () => {
    const cleaned = area.value.replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "");
    const cps = [...cleaned];
    const text = cps.length > max ? cps.slice(0, max).join("") : cleaned;
    if (text !== area.value) area.value = text;
    const n = P.codePoints(text);
    // Announced after a pause in typing, not at every key.
    clearTimeout(timer);
    timer = setTimeout(() => (count.textContent = n >= max ? t("open_full", { max }) : t("open_count", { n, max })), 400);
  };
  area.addEventListener("input", update);
  count.textContent = t("open_count", { n: P.codePoints(area.value), max });
  const fs = h(
    "fieldset",
    {},
    h("legend", {}, q.text),
    note("warn", { id: `${name}-warn` }, t("open_warning")),
    h("label", { for: id }, t("open_label")),
    h("p", { class: "hint", id: `${name}-help` }, t("open_help", { max })),
    area,
    count,
  );
  return { element: fs, value: () => (area.value ? [area.value] : []) };
};

function renderBallot(def, choices) {
  if (def.questions) {
    const parts = def.questions.map((q, i) => {
      const render = QUESTION_RULES[q.rule];
      if (!render) throw new P.ProtocolError(`unknown question rule ${q.rule}`);
      const part = render(q, `q${i}`, (choices && choices[q.id]) || []);
      if (q.required) {
        // Shown in the legend, and a message of its own (focused) when left blank.
        part.element.querySelector("legend").append(" ", h("span", { class: "required" }, t("ballot_required")));
        part.error = h("p", { class: "note bad", id: `q${i}-required`, tabindex: "-1", hidden: true }, t("ballot_required_missing"));
        part.element.querySelector("legend").after(part.error);
      }
      return [q, part];
    });
    return {
      title: t("ballot_consultation_title"),
      help: null,
      elements: parts.map(([, p]) => p.element),
      value: () => Object.fromEntries(parts.map(([q, p]) => [q.id, p.value()]).filter(([, v]) => v.length)),
      // The required questions left blank: their messages shown, the first one focused.
      missing: () => {
        const blank = parts.filter(([q, p]) => q.required && !p.value().length);
        for (const [, p] of parts) if (p.error) p.error.hidden = !blank.some(([, b]) => b === p);
        if (blank.length) blank[0][1].error.focus();
        return blank.length > 0;
      },
      skippable: true,
    };
  }
  const lists = def.lists.map((l, i) => ({ ...l, n: i + 1, candidates: [...l.candidates].sort((a, b) => a.position - b.position) }));
  const picked = choices || [];
  if (def.system === "list") {
    // One radio group across every list (one vote in all), and blank as a choice of its own.
    const groups = lists.map((l) =>
      choiceGroup({
        name: "candidate",
        id: `list${l.n}`,
        legend: t("ballot_list_legend", { n: l.n, name: l.name }),
        max: 1,
        checked: picked,
        options: l.candidates.map((c) => ({ value: c.id, label: c.name })),
      }),
    );
    const blank = choiceGroup({ name: "candidate", id: "blank", legend: t("ballot_blank_legend"), max: 1, checked: picked.length ? [] : [""], options: [{ value: "", label: t("ballot_blank_option") }] });
    return {
      title: t("ballot_list_title"),
      help: t("ballot_list_help"),
      elements: [...groups.map((g) => g.element), blank.element],
      value: () => groups.flatMap((g) => g.value()),
    };
  }
  const max = Math.min(def.votes_per_voter, lists.reduce((n, l) => n + l.candidates.length, 0));
  const all = lists.flatMap((l) => l.candidates.map((c) => ({ value: c.id, label: c.name, sub: ` (${l.name})` })));
  const group = choiceGroup({ name: "candidates", legend: t("ballot_person_title", { n: max }), help: t("ballot_person_help"), max, checked: picked, options: all });
  return { title: t("ballot_person_title", { n: max }), help: null, elements: [group.element], value: group.value };
}

/** One answer in words: the scale point with the scale's labels, the ranking in order, the
 * open text as written. */
function describeAnswer(q, answer) {
  if (q.rule === "scale") {
    return t("review_scale", { n: answer[0], min: q.scale_min ?? 1, max: q.scale_max ?? 5, min_label: q.min_label || "", max_label: q.max_label || "" });
  }
  if (q.rule === "open") return answer[0];
  const names = answer.map((id) => optionText(q, q.options.find((o) => o.id === id)));
  if (q.rule === "ranking") {
    return [h("ol", {}, names.map((n) => h("li", {}, n))), answer.length < q.options.length ? h("p", { class: "hint" }, t("review_rank_rest")) : null];
  }
  return names.join(", ");
}

function describeChoice(def, sel) {
  // The review: each choice in words, and a blank or incomplete ballot named as such.
  if (def.questions) {
    if (P.isSkip(sel)) return [note("warn", t("review_skip"))];
    const rows = def.questions.map((q) => {
      const ids = sel[q.id] || [];
      return [h("dt", {}, q.text), h("dd", { class: q.rule === "open" ? "open" : null }, ids.length ? describeAnswer(q, ids) : t("review_unanswered"))];
    });
    const blank = def.questions.some((q) => !(sel[q.id] || []).length);
    return [h("dl", { class: "review" }, rows.flat()), blank ? note("warn", t("review_some_blank")) : null];
  }
  const names = new Map(def.lists.flatMap((l) => l.candidates.map((c) => [c.id, `${c.name} (${l.name})`])));
  if (!sel.length) return [note("warn", t("review_blank"))];
  const max = def.system === "list" ? 1 : Math.min(def.votes_per_voter, names.size);
  return [h("ul", { class: "review" }, sel.map((id) => h("li", {}, names.get(id)))), sel.length < max ? note("warn", t("review_incomplete", { n: sel.length, max })) : null];
}

async function booth(e, el) {
  if (el.status !== "voting") {
    screen(t("booth_title"), card(h("p", {}, t("booth_not_open", { next: nextText(el) }))), backLink(e));
    return;
  }
  const login = await needLogin(e, t("booth_title"));
  screen(t("booth_title"), h("p", { class: "busy", role: "status" }, t("booth_preparing")));
  let state = store.get(boothKey(e)) || { pending: null, cred: null, choices: null };
  const save = () => store.set(boothKey(e), state);
  const pub = await P.publicData(e, login.group);
  const groupName = (el.settings.kiesgroepen || []).find((g) => g.id === login.group)?.name || login.group;
  if (pub.definition.vote_held === false) {
    screen(t("booth_title"), card(h("p", {}, t("booth_no_vote"))), backLink(e));
    return;
  }
  if (!state.cred) {
    // The credential right after login, before any choice: no surprise at the end.
    const status = await authed(e, "GET", `/elections/${e}/voting/credential`);
    if (!status.may_vote) {
      screen(t("booth_title"), card(note("bad", t("booth_not_eligible")), h("p", {}, h("a", { href: link(`/elections/${e}/registration`) }, t("go_registration")))), backLink(e));
      return;
    }
    if (status.credential_issued && !state.pending) return otherVisit(e, el, state, save);
    const jwk = pub.keys.issuer_keys[login.group];
    if (!state.pending) {
      state.pending = await P.beginIssuance(e, login.group, jwk, status);
      save(); // kept before sending: a lost answer is repeated with the same blinded message
    }
    try {
      state.cred = await P.finishIssuance(state.pending, jwk, currentLogin(e)?.access_token || login.access_token);
    } catch (err) {
      if (err instanceof P.ApiError && err.slug === "credential-already-issued") {
        state.pending = null;
        save();
        return otherVisit(e, el, state, save);
      }
      throw err;
    }
    state.pending = null;
    save();
  }
  const ctx = { e, el, pub, state, save, groupName };
  if (state.cred.pending_ballot) return sendBallot(ctx, state.cred.pending_ballot);
  if (state.cred.promises.length) return done(ctx, false);
  choose(ctx);
}

function otherVisit(e, el, state, save) {
  const file = h("input", { id: "key-file", type: "file", accept: ".json,application/json" });
  const msg = h("p", { class: "note bad", role: "alert", hidden: true });
  file.addEventListener("change", async () => {
    try {
      const cred = JSON.parse(await file.files[0].text());
      if (cred.election !== e || !cred.sk || !cred.issuer_sig) throw new Error("not a key");
      state.cred = { pending_ballot: null, promises: [], receipts: [], ...cred };
      save();
      booth(e, el).catch((err) => showError(err, () => booth(e, el)));
    } catch {
      msg.hidden = false;
      msg.textContent = t("booth_load_bad");
    }
  });
  screen(t("booth_title"), card(h("p", {}, t("booth_other_visit")), h("label", { for: "key-file" }, t("booth_load_label")), file, msg), backLink(e));
}

function choose(ctx) {
  const ballot = renderBallot(ctx.pub.definition, ctx.state.choices);
  const form = h(
    "form",
    { class: "ballot", novalidate: true },
    ballot.help ? h("p", {}, ballot.help) : null,
    ballot.elements,
    h("p", {}, h("button", { type: "submit", class: "primary" }, t("to_review"))),
    ballot.skippable
      ? h(
          "p",
          { class: "skip" },
          h("span", { class: "hint", id: "skip-help" }, t("skip_help")),
          " ",
          h(
            "button",
            {
              type: "button",
              id: "skip",
              "aria-describedby": "skip-help",
              onclick: () => {
                // The consultation-wide skip: no answer at all, a blank ballot (S = {}).
                ctx.state.choices = {};
                ctx.save();
                review(ctx);
              },
            },
            t("skip_button"),
          ),
        )
      : null,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (ballot.missing && ballot.missing()) return;
    const sel = ballot.value();
    P.checkSelections(ctx.pub.definition, sel);
    ctx.state.choices = sel;
    ctx.save();
    review(ctx);
  });
  screen(ballot.title, h("p", { class: "group" }, t("booth_group", { group: ctx.groupName })), note("ok", t("booth_ready")), form);
}

function review(ctx) {
  const sel = ctx.state.choices;
  screen(
    t("review_title"),
    h("p", {}, t("review_intro")),
    card(describeChoice(ctx.pub.definition, sel)),
    h(
      "p",
      { class: "actions" },
      button(t("change"), () => choose(ctx)),
      button(
        t("cast"),
        async () => {
          let entry;
          try {
            P.checkSelections(ctx.pub.definition, sel);
            entry = await P.makeBallot(ctx.state.cred, ctx.pub.keys, sel);
          } catch (err) {
            return showError(err, () => review(ctx));
          }
          ctx.state.cred.pending_ballot = entry; // kept before it is sent (a lost answer)
          ctx.save();
          return sendBallot(ctx, entry);
        },
        "primary",
      ),
    ),
  );
}

async function sendBallot(ctx, entry, retried = false) {
  const cred = ctx.state.cred;
  screen(t("cast"), h("p", { class: "busy", role: "status" }, t("casting")));
  let promise;
  try {
    promise = await P.cast(entry, ctx.pub.key);
  } catch (err) {
    if (err instanceof P.ApiError && err.slug === "ballot-seq-not-greater" && !retried) {
      // No pending ballot of a lost answer to resend: the log says which seq is next.
      const mine = await P.credentialBallots(cred);
      cred.seq = Math.max(cred.seq, ...mine.map((b) => b.seq));
      const again = await P.makeBallot(cred, ctx.pub.keys, ctx.state.choices || []);
      cred.pending_ballot = again;
      ctx.save();
      return sendBallot(ctx, again, true);
    }
    if (err instanceof P.ApiError && err.slug === "revoting-not-allowed") {
      const mine = await P.credentialBallots(cred);
      cred.pending_ballot = null;
      for (const b of mine) {
        const entryHash = P.hex(await P.leafHash(b));
        if (!cred.promises.some((p) => p.entry_hash === entryHash)) cred.promises.push({ seq: b.seq, entry_hash: entryHash, promise: null });
      }
      ctx.save();
      return done(ctx, true);
    }
    if (err instanceof P.ApiError && err.slug === "voting-not-open") {
      // Voting closed while the voter was in the booth: this ballot was not cast, none can be.
      screen(t("error_title"), note("bad", { role: "alert" }, t("cast_not_open")), backLink(ctx.e));
      return;
    }
    if (err instanceof P.ApiError || err instanceof P.ProtocolError) return showError(err, () => review(ctx));
    // The answer was lost: the same entry again is safe (the server answers it with the same promise).
    screen(t("error_title"), note("bad", { role: "alert" }, t("cast_lost")), button(t("retry"), () => sendBallot(ctx, entry), "primary"));
    return;
  }
  cred.seq = entry.seq;
  cred.pending_ballot = null;
  cred.promises = cred.promises.filter((p) => p.entry_hash !== promise.entry_hash).concat([promise]);
  ctx.save();
  done(ctx, false);
}

async function done(ctx, recovered) {
  const cred = ctx.state.cred;
  const last = cred.promises[cred.promises.length - 1];
  const receiptPart = h("div", { id: "receipt" });
  const showReceipt = async () => {
    const r = await P.fetchReceipt(ctx.e, last.entry_hash, ctx.pub.key);
    if (!r) {
      receiptPart.replaceChildren(h("p", {}, t("receipt_pending")), button(t("receipt_ask"), () => showReceipt().then(() => say(receiptPart.textContent))));
      return;
    }
    receiptPart.replaceChildren(
      h("p", {}, t("receipt_text", { index: r.index })),
      h("pre", { class: "proof" }, r.tlog_proof),
      h("p", { class: "actions noprint" }, download(`ontvangstbewijs-${ctx.e}-${last.seq}.txt`, r.tlog_proof, t("download_receipt"))),
    );
  };
  const revote = ctx.el.settings.revoting_allowed
    ? card(
        h("h2", {}, t("revote_title")),
        h("p", {}, t("revote_text")),
        h("p", {}, button(t("revote_button"), () => choose(ctx))),
        h("p", {}, t("revote_later")),
        h("p", {}, download(`stemsleutel-${ctx.e}.json`, JSON.stringify({ ...cred, pending_ballot: null }, null, 1), t("save_key"))),
      )
    : card(h("p", {}, t("no_revote")));
  screen(
    t("done_title"),
    note("ok big", { role: "status" }, recovered ? t("done_recovered") : t("done_text")),
    last.promise
      ? h(
          "section",
          { class: "card printable" },
          h("h2", {}, t("promise_title")),
          h("p", {}, t("promise_text")),
          h("pre", { class: "proof", id: "promise" }, last.promise),
          note("warn", t("keep")),
          h("p", { class: "actions noprint" }, download(`stembewijs-${ctx.e}-${last.seq}.txt`, last.promise, t("download_promise")), button(t("print"), () => window.print())),
        )
      : null,
    card(h("h2", {}, t("receipt_title")), receiptPart),
    revote,
    backLink(ctx.e),
  );
  await showReceipt().catch(() => receiptPart.replaceChildren(h("p", {}, t("receipt_pending"))));
}

// ------------------------------------------------------------------ start

async function start() {
  if (page === "home") return home();
  let el;
  try {
    el = (await P.call("GET", `/elections/${encodeURIComponent(electionId)}`)).json;
  } catch (err) {
    if (err instanceof P.ApiError && err.status === 404) return screen(t("error_title"), note("bad", t("not_found")));
    throw err;
  }
  const pages = { landing, vote: booth, registration, nominations, candidacies, receipt: receiptCheck, trustee };
  return pages[page](electionId, el);
}

start().catch((err) => showError(err, () => location.reload()));
