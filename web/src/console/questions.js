// The questions editor of a consultation (raadpleging) in the settings view: add, remove and
// reorder questions (buttons: keyboard-operable), per question its text, rule, options and
// "required". The schema and its limits are rules/settings.py `Question`; the API checks them on
// PUT …/settings and its 422 names the question (loc: body.settings.questions.N…), shown here next
// to that question.

import { button, checkbox, field, h, note, t, uid } from "./dom.js";

export const RULES = ["single", "up_to_k", "yes_no_abstain", "scale", "ranking", "open"];
const WITH_OPTIONS = new Set(["single", "up_to_k", "ranking"]);

/** A fresh id (a slug, rules/settings.py SLUG) not among `taken`. */
function freshId(prefix, taken) {
  for (let n = 1; ; n++) if (!taken.has(`${prefix}${n}`)) return `${prefix}${n}`;
}

const blank = (taken) => ({
  id: freshId("v", taken),
  text: "",
  rule: "single",
  max_choices: 1,
  options: [],
  required: false,
  scale_min: 1,
  scale_max: 5,
  min_label: "",
  max_label: "",
  max_length: 500,
});

// The API's words for a question's error (rules/settings.py Question), in plain words too.
const KNOWN = [
  ["scale_max must be above scale_min", "q_err_scale"],
  ["max_choices exceeds the number of options", "q_err_max_choices"],
  ["needs at least two options", "q_err_two_options"],
  ["option ids must be unique", "q_err_option_ids"],
  ["has no options", "q_err_no_options"],
];
function explain(e, where) {
  const msg = String(e.msg || "");
  for (const [part, key] of KNOWN) if (msg.includes(part)) return t(key);
  const f = where[0];
  if (f === "text" && e.type === "string_too_short") return t("q_err_text");
  if (f === "options" && where[2] === "text") return t("q_err_option_text");
  if (e.type === "less_than_equal" || e.type === "greater_than_equal") return t("q_err_range");
  return null;
}

export function questionsEditor(questions, draft) {
  // The state: one object per question, read back from the inputs before each redraw.
  let qs = (questions || []).map((q) => ({ ...blank(new Set()), ...structuredClone(q) }));
  const list = h("ol", { class: "questions" });
  let readers = [];
  let errorSlots = [];

  const sync = () => {
    qs = readers.map((r) => r());
  };

  const draw = (focus) => {
    list.replaceChildren();
    readers = [];
    errorSlots = [];
    qs.forEach((q, i) => list.append(questionItem(q, i)));
    if (focus) {
      const el = list.querySelector(focus[0]) || list.querySelector(focus[1] || "none") || add;
      el.focus();
    }
  };

  const move = (i, to, which) => {
    sync();
    const [q] = qs.splice(i, 1);
    qs.splice(to, 0, q);
    draw([`[data-q="${to}"] [data-act="${which}"]:not([disabled])`, `[data-q="${to}"] [data-act="${which === "up" ? "down" : "up"}"]`]);
  };

  function questionItem(q, i) {
    const n = i + 1;
    const text = field(t("q_text"), h("textarea", { rows: "2", maxlength: "2000", disabled: !draft, "data-field": "text" }), null);
    text.input.value = q.text;
    const rule = field(
      t("q_rule"),
      h("select", { disabled: !draft, "data-field": "rule" }, RULES.map((r) => h("option", { value: r, selected: r === q.rule }, t(`q_rule_${r}`)))),
      t(`q_rule_${q.rule}_hint`),
    );
    const required = checkbox(t("q_required"), q.required, t("q_required_hint"));
    required.input.disabled = !draft;
    required.input.dataset.field = "required";

    // The rule's own part, redrawn when the rule changes.
    const own = h("div", { class: "rule-part" });
    let ownRead = () => ({});
    const drawOwn = (cur) => {
      own.replaceChildren();
      const num = (v, min, max, f) => h("input", { type: "number", inputmode: "numeric", min, max, value: v, disabled: !draft, "data-field": f });
      if (cur.rule === "up_to_k") {
        const k = field(t("q_max_choices"), num(cur.max_choices, 1, 50, "max_choices"), t("q_max_choices_hint"));
        own.append(k.row);
        ownRead = () => ({ max_choices: k.input.value === "" ? null : Number(k.input.value) });
      } else if (cur.rule === "scale") {
        const lo = field(t("q_scale_min"), num(cur.scale_min, -10, 10, "scale_min"));
        const hi = field(t("q_scale_max"), num(cur.scale_max, -10, 10, "scale_max"), t("q_scale_hint"));
        const lol = field(t("q_min_label"), h("input", { value: cur.min_label, maxlength: "100", disabled: !draft, "data-field": "min_label" }));
        const hil = field(t("q_max_label"), h("input", { value: cur.max_label, maxlength: "100", disabled: !draft, "data-field": "max_label" }));
        own.append(h("div", { class: "pair" }, lo.row, hi.row), h("div", { class: "pair" }, lol.row, hil.row));
        ownRead = () => ({
          scale_min: lo.input.value === "" ? null : Number(lo.input.value),
          scale_max: hi.input.value === "" ? null : Number(hi.input.value),
          min_label: lol.input.value.trim(),
          max_label: hil.input.value.trim(),
        });
      } else if (cur.rule === "open") {
        const ml = field(t("q_max_length"), num(cur.max_length, 1, 500, "max_length"), t("q_max_length_hint"));
        own.append(note("warn", t("q_open_warning")), ml.row);
        ownRead = () => ({ max_length: ml.input.value === "" ? null : Number(ml.input.value) });
      } else if (cur.rule === "yes_no_abstain") {
        own.append(h("p", { class: "hint" }, t("q_yna_options")));
        ownRead = () => ({});
      } else {
        ownRead = () => ({});
      }
      if (WITH_OPTIONS.has(cur.rule)) {
        const opts = (cur.options || []).filter((o) => !["yes", "no", "abstain"].includes(o.id) || cur.rule !== "yes_no_abstain");
        while (opts.length < 2) opts.push({ id: freshId("o", new Set(opts.map((o) => o.id))), text: "" });
        const ul = h("ol", { class: "options" });
        const addOpt = (o) => {
          const m = ul.children.length + 1;
          const input = h("input", { value: o.text, maxlength: "500", disabled: !draft, "aria-label": t("q_option_n", { q: n, n: m }), "data-option": o.id });
          const li = h("li", {}, input, draft ? button(t("remove"), () => {
            li.remove();
            (ul.querySelector("input") || addOptButton).focus();
          }, "", { "aria-label": t("q_option_remove_n", { q: n, n: m }) }) : null);
          ul.append(li);
          return input;
        };
        for (const o of opts) addOpt(o);
        const addOptButton = draft
          ? button(t("q_option_add"), () => {
              const taken = new Set([...ul.querySelectorAll("input")].map((x) => x.dataset.option));
              addOpt({ id: freshId("o", taken), text: "" }).focus();
            }, "", { "aria-label": t("q_option_add_n", { n }) })
          : null;
        own.append(h("fieldset", {}, h("legend", {}, t("q_options")), h("p", { class: "hint" }, t("q_options_hint")), ul, addOptButton));
        const before = ownRead;
        ownRead = () => ({
          ...before(),
          options: [...ul.querySelectorAll("input")].map((x) => ({ id: x.dataset.option, text: x.value.trim() })).filter((o) => o.text),
        });
      }
    };
    drawOwn(q);
    rule.input.addEventListener("change", () => {
      const hint = document.getElementById(`${rule.input.id}-hint`);
      if (hint) hint.textContent = t(`q_rule_${rule.input.value}_hint`);
      drawOwn({ ...blank(new Set()), ...q, ...ownRead(), rule: rule.input.value });
    });

    const errors = h("div", { class: "q-errors", id: uid("qerr") });
    errorSlots.push(errors);
    const legend = h("legend", {}, t("q_n", { n }));
    const moves = draft
      ? h(
          "div",
          { class: "actions" },
          button(t("q_up"), () => move(i, i - 1, "up"), "", { "aria-label": t("q_up_n", { n }), "data-act": "up", disabled: i === 0 }),
          button(t("q_down"), () => move(i, i + 1, "down"), "", { "aria-label": t("q_down_n", { n }), "data-act": "down", disabled: i === qs.length - 1 }),
          button(t("q_remove"), () => {
            sync();
            qs.splice(i, 1);
            draw([`[data-q="${Math.min(i, qs.length - 1)}"] textarea`, null]);
          }, "", { "aria-label": t("q_remove_n", { n }), "data-act": "remove" }),
        )
      : null;
    const item = h("li", { "data-q": String(i), "data-id": q.id }, h("fieldset", { class: "question" }, legend, errors, text.row, rule.row, own, required.row, moves));
    readers.push(() => ({
      id: q.id,
      text: text.input.value.trim(),
      rule: rule.input.value,
      required: required.input.checked,
      options: q.options,
      ...pick(q),
      ...ownRead(),
    }));
    return item;
  }

  // Only the fields of the rule go to the API; the defaults stand for the rest.
  const pick = (q) => {
    const out = {};
    if (q.rule === "up_to_k") out.max_choices = q.max_choices;
    return out;
  };

  const add = button(t("q_add"), () => {
    sync();
    qs.push(blank(new Set(qs.map((q) => q.id))));
    draw([`[data-q="${qs.length - 1}"] textarea`]);
  });
  if (!draft) add.hidden = true;
  draw();

  return {
    el: h(
      "section",
      { class: "card", "aria-labelledby": "questions-title" },
      h("h2", { id: "questions-title" }, t("q_title")),
      h("p", {}, draft ? t("q_intro") : t("q_intro_locked")),
      list,
      qs.length || draft ? null : h("p", { class: "hint" }, t("q_none")),
      draft ? h("p", {}, add) : null,
    ),
    /** The questions as the API takes them (rules/settings.py Question). */
    read() {
      sync();
      return qs.map((q) => {
        const out = { id: q.id, text: q.text, rule: q.rule, required: q.required };
        if (WITH_OPTIONS.has(q.rule)) out.options = q.options;
        // Yes/no/abstain keeps its own texts (made through the API); the API fills in the rest.
        const yna = (q.options || []).map((o) => o.id).join() === "yes,no,abstain";
        if (q.rule === "yes_no_abstain" && yna) out.options = q.options;
        if (q.rule === "up_to_k") out.max_choices = q.max_choices;
        if (q.rule === "scale") Object.assign(out, { scale_min: q.scale_min, scale_max: q.scale_max, min_label: q.min_label, max_label: q.max_label });
        if (q.rule === "open") out.max_length = q.max_length;
        return out;
      });
    },
    clearErrors() {
      for (const slot of errorSlots) slot.replaceChildren();
      for (const fs of list.querySelectorAll("fieldset.question")) {
        fs.removeAttribute("aria-invalid");
        fs.removeAttribute("aria-describedby");
      }
    },
    /** The 422's errors that name a question, shown at it; returns the first slot shown. */
    showErrors(errors) {
      let first = null;
      for (const e of errors || []) {
        const loc = (e.loc || []).map(String);
        const at = loc.indexOf("questions");
        if (at < 0 || !/^\d+$/.test(loc[at + 1] || "")) continue;
        const i = Number(loc[at + 1]);
        const slot = errorSlots[i];
        if (!slot) continue;
        const rest = loc.slice(at + 2).join(".");
        const plain = explain(e, loc.slice(at + 2));
        const api = rest ? t("q_error_at", { field: rest, msg: e.msg }) : e.msg;
        const what = plain ? `${plain} (${api})` : api;
        if (!slot.firstChild) slot.append(h("div", { class: "note bad", tabindex: "-1" }, h("p", {}, t("q_error_title", { n: i + 1 })), h("ul", {})));
        slot.querySelector("ul").append(h("li", {}, what));
        slot.parentElement.setAttribute("aria-describedby", slot.id);
        first = first || slot.firstChild;
      }
      return first;
    },
  };
}
