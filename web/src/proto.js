// The voter's side of docs/client-protocol.md in the browser, step for step as tests/js/voter.mjs
// does it in Node (the same libraries, pinned by web/package-lock.json), with WebCrypto SHA-256.
// Every check the guide asks of a client is made here; a failed check throws ProtocolError and
// the booth stops: it never casts on data it could not verify.

import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { ed25519 } from "@noble/curves/ed25519.js";
import canonicalize from "canonicalize";

const enc = new TextEncoder();

export class ProtocolError extends Error {}
export class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem && problem.type}`);
    this.status = status;
    this.problem = problem || {};
    this.slug = String(this.problem.type || "").replace("/problems/", "");
  }
}

export const b64 = (bytes) => {
  let s = "";
  for (const x of bytes) s += String.fromCharCode(x);
  return btoa(s);
};
export const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
export const hex = (bytes) => Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
export const unhex = (s) => Uint8Array.from(s.match(/../g) || [], (x) => parseInt(x, 16));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
};
export const sha256 = async (...parts) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
export const jcs = (obj) => enc.encode(canonicalize(obj));
export const leafHash = (entry) => sha256(Uint8Array.of(0), jcs(entry));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const check = (ok, what) => {
  if (!ok) throw new ProtocolError(`check failed: ${what}`);
};

/** JSON calls to /api/v1: never a cookie; a token only where a route needs one. */
export async function call(method, path, { body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (r.status >= 400) throw new ApiError(r.status, json);
  return { status: r.status, json, headers: r.headers };
}

function parseVerifierKey(vk) {
  const a = vk.indexOf("+");
  const b = vk.indexOf("+", a + 1);
  const name = vk.slice(0, a);
  const keyId = unhex(vk.slice(a + 1, b));
  const raw = unb64(vk.slice(b + 1));
  check(raw.length === 33 && raw[0] === 0x01, "verifier key is 0x01 ‖ 32-byte Ed25519 key");
  return { name, keyId, publicKey: raw.slice(1), text: vk };
}

async function checkKeyId(key) {
  const id = (await sha256(enc.encode(key.name), Uint8Array.of(0x0a, 0x01), key.publicKey)).slice(0, 4);
  check(equal(id, key.keyId), "verifier key id");
}

export function openNote(note, key) {
  const cut = note.indexOf("\n\n");
  check(cut > 0, "a signed note has a blank line");
  const text = note.slice(0, cut + 1);
  const sigLines = note.slice(cut + 2).split("\n").filter((l) => l.length > 0);
  const mine = sigLines.find((l) => l.startsWith(`— ${key.name} `));
  check(mine !== undefined, "a signature by the log key");
  const sig = unb64(mine.slice(`— ${key.name} `.length));
  check(equal(sig.slice(0, 4), key.keyId), "signature key id");
  check(ed25519.verify(sig.slice(4), enc.encode(text), key.publicKey), "note signature");
  return text.split("\n").slice(0, -1);
}

function openCheckpoint(note, key) {
  const [origin, size, root] = openNote(note, key);
  check(origin === key.name, "checkpoint origin is the log key's name");
  check(/^[0-9]+$/.test(size), "checkpoint size");
  return { size: Number(size), root: unb64(root) };
}

// RFC 9162 §2.1.3.2
async function verifyInclusion(leaf, index, size, proof, root) {
  check(index < size, "index in tree");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof.map(unhex)) {
    check(sn !== 0, "inclusion proof not too long");
    if (fn & 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  check(sn === 0 && equal(r, root), "inclusion proof leads to the root");
}

export async function logKey(e) {
  const k = (await call("GET", `/elections/${e}/log/key`)).json;
  const key = parseVerifierKey(k.verifier_key);
  await checkKeyId(key);
  check(key.name === k.origin && k.origin.endsWith(`/elections/${e}`), "log origin");
  check(b64(key.publicKey) === k.public_key, "public key");
  return key;
}

/** Steps 0.2–0.4: the log key, the keys entry and the group's ballot definition, verified. */
export async function publicData(e, group) {
  const key = await logKey(e);
  const keys = (await call("GET", `/elections/${e}/voting/keys`)).json;
  check(keys.entry.type === "keys" && keys.entry.log_key === key.text, "keys entry names the log key");
  const kp = (await call("GET", `/elections/${e}/log/proofs/inclusion?index=${keys.index}`)).json;
  const kcp = openCheckpoint(kp.checkpoint, key);
  await verifyInclusion(await leafHash(keys.entry), keys.index, kcp.size, kp.proof, kcp.root);
  const ballot = (await call("GET", `/elections/${e}/ballot?group=${encodeURIComponent(group)}`)).json;
  const bcp = openCheckpoint(ballot.checkpoint, key);
  check(bcp.size === ballot.size, "ballot checkpoint size");
  await verifyInclusion(await leafHash(ballot.entry), ballot.index, bcp.size, ballot.proof, bcp.root);
  check(ballot.index < keys.index, "ballot definition before the keys entry");
  let definition;
  if (ballot.entry.type === "questions_published") {
    definition = { group, questions: ballot.entry.questions };
  } else {
    check(ballot.entry.type === "lists_published", "a published ballot");
    definition = ballot.entry.groups.find((g) => g.group === group);
    check(definition !== undefined, "my kiesgroep is on the ballot");
  }
  check(canonicalize(definition) === canonicalize(ballot.definition), "definition matches the entry");
  return { key, keys: keys.entry, definition };
}

const suite = () => RSABSSA.SHA384.PSS.Randomized();
const importIssuer = (jwk) =>
  crypto.subtle.importKey("jwk", jwk, { name: "RSA-PSS", hash: "SHA-384" }, true, ["verify"]);

/** Steps 2.1–2.3: a fresh credential key, blinded; kept (sessionStorage) before it is sent. */
export async function beginIssuance(e, group, jwk, status) {
  check(status.issuer_key && status.issuer_key.n === jwk.n && status.issuer_key.e === jwk.e, "issuer key is my group's");
  const sk = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(sk);
  const inputMsg = suite().prepare(pk);
  check(equal(inputMsg.slice(32), pk), "input_msg = prefix ‖ pk_c");
  const { blindedMsg, inv } = await suite().blind(await importIssuer(jwk), inputMsg);
  return {
    election: e,
    group,
    sk: b64(sk),
    input_msg: b64(inputMsg),
    blinded_msg: b64(blindedMsg),
    inv: b64(inv),
  };
}

/** Steps 2.4–2.5 (repeatable: the same blinded_msg gets the same blind signature). */
export async function finishIssuance(pending, jwk, token) {
  const cred = (
    await call("POST", `/elections/${pending.election}/voting/credential`, {
      body: { blinded_msg: pending.blinded_msg },
      token,
    })
  ).json;
  const inputMsg = unb64(pending.input_msg);
  const inv = unb64(pending.inv);
  let issuerSig;
  try {
    issuerSig = await suite().finalize(await importIssuer(jwk), inputMsg, unb64(cred.blind_sig), inv);
  } catch {
    throw new ProtocolError("check failed: the blind signature does not finalize");
  }
  return {
    election: pending.election,
    group: pending.group,
    sk: pending.sk,
    credential: b64(inputMsg.slice(32)),
    prefix: b64(inputMsg.slice(0, 32)),
    issuer_sig: b64(issuerSig),
    seq: 0,
    pending_ballot: null,
    promises: [],
    receipts: [],
  };
}

/** Step 3.1: the selections must fit the definition (rules/ballot.py) before sealing. */
// A control character (Unicode Cc) other than the line feed, or a lone surrogate: refused in an
// open answer, as rules/ballot.py refuses them.
const BAD_TEXT = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const codePoints = (text) => [...text].length;

/** One answer of a consultation, checked as rules/ballot.py `_validate_answer` does. */
function checkAnswer(q, opts) {
  check(Array.isArray(opts), `question ${q.id} is a list`);
  if (q.rule === "scale") {
    const min = q.scale_min ?? 1;
    const max = q.scale_max ?? 5;
    check(opts.length <= 1, `one point for ${q.id}`);
    check(opts.every((v) => Number.isInteger(v) && v >= min && v <= max), `a point of the scale ${min}..${max} for ${q.id}`);
    return;
  }
  if (q.rule === "open") {
    const max = q.max_length ?? 500;
    check(opts.length <= 1, `one text for ${q.id}`);
    for (const v of opts) {
      check(typeof v === "string" && v.length > 0, `a non-empty text for ${q.id}`);
      check(codePoints(v) <= max, `at most ${max} characters for ${q.id}`);
      check(!BAD_TEXT.test(v), `no control character in ${q.id}`);
    }
    return;
  }
  check(["single", "up_to_k", "yes_no_abstain", "ranking"].includes(q.rule), `a known rule for ${q.id}`);
  check(opts.every((o) => typeof o === "string" && q.options.some((x) => x.id === o)), `options of ${q.id}`);
  check(new Set(opts).size === opts.length, `no duplicate answer for ${q.id}`);
  const allowed = q.rule === "up_to_k" ? Math.min(q.max_choices, q.options.length) : q.rule === "ranking" ? q.options.length : 1;
  check(opts.length <= allowed, `at most ${allowed} for ${q.id}`);
}

/** The consultation-wide skip: no question answered (`{}` or only `[]`), a blank ballot. */
export const isSkip = (selections) => Object.values(selections).every((v) => Array.isArray(v) && v.length === 0);

export function checkSelections(definition, selections) {
  if (definition.questions) {
    check(selections && typeof selections === "object" && !Array.isArray(selections), "selections per question");
    for (const [q, opts] of Object.entries(selections)) {
      const question = definition.questions.find((x) => x.id === q);
      check(question !== undefined, `question ${q} exists`);
      checkAnswer(question, opts);
    }
    if (!isSkip(selections)) {
      for (const q of definition.questions) check(!q.required || (selections[q.id] || []).length > 0, `required question ${q.id} answered`);
    }
    return;
  }
  check(Array.isArray(selections), "a list of candidates");
  const ids = definition.lists.flatMap((l) => l.candidates.map((c) => c.id));
  check(new Set(selections).size === selections.length, "no candidate twice");
  check(selections.every((c) => ids.includes(c)), "candidates of my kiesgroep");
  const max = definition.system === "list" ? 1 : Math.min(definition.votes_per_voter, ids.length);
  check(selections.length <= max, `at most ${max} votes`);
}

/** Steps 3.2–3.4: seal and sign the ballot entry with the next seq. */
export async function makeBallot(cred, keys, selections) {
  const e = cred.election;
  const plain = jcs({ election: e, group: cred.group, selections });
  check(plain.length < keys.ballot_size, "the ballot fits the ballot size");
  const pt = new Uint8Array(keys.ballot_size);
  pt.set(plain);
  pt[plain.length] = 0x80;
  const hpke = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  const recipientPublicKey = await hpke.kem.deserializePublicKey(new Uint8Array(unb64(keys.sealing_key)).buffer);
  const info = enc.encode(`stembus/ballot/v1\n${e}\n${cred.group}`);
  const sealed = await hpke.seal({ recipientPublicKey, info }, pt);
  const ciphertext = concat(new Uint8Array(sealed.enc), new Uint8Array(sealed.ct));
  check(ciphertext.length === 32 + keys.ballot_size + 16, "ciphertext length");
  const entry = {
    type: "ballot",
    election: e,
    group: cred.group,
    credential: cred.credential,
    prefix: cred.prefix,
    issuer_sig: cred.issuer_sig,
    seq: cred.seq + 1,
    ciphertext: b64(ciphertext),
  };
  entry.signature = b64(ed25519.sign(jcs(entry), unb64(cred.sk)));
  return entry;
}

/** Step 3.5: cast anonymously (no token, no cookie) and check the promise (step 4). */
export async function cast(entry, key) {
  const r = await fetch(`/api/v1/elections/${entry.election}/ballots`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(entry),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (r.status >= 400) throw new ApiError(r.status, json);
  check(r.status === 201 || r.status === 200, "the ballot is accepted");
  const entryHash = hex(await leafHash(entry));
  check(json.entry_hash === entryHash, "the promise names my ballot");
  const lines = openNote(json.promise, key);
  check(
    lines.length === 3 && lines[0] === "stembus/ballot-promise/v1" && lines[1] === key.name && lines[2] === entryHash,
    "promise text",
  );
  return { seq: entry.seq, entry_hash: entryHash, promise: json.promise };
}

/** A receipt by entry hash, checked against the log key; null while it is pending. */
export async function fetchReceipt(e, entryHash, key) {
  const got = (await call("GET", `/elections/${e}/receipts/${entryHash}`)).json;
  if (got.status !== "included") return null;
  const r = got.receipt;
  check(r.entry_hash === entryHash, "receipt entry hash");
  const cp = openCheckpoint(r.checkpoint, key);
  check(cp.size > r.index, "checkpoint covers the entry");
  await verifyInclusion(unhex(entryHash), r.index, cp.size, r.inclusion_proof, cp.root);
  const head = `c2sp.org/tlog-proof@v1\nextra ${b64(unhex(entryHash))}\nindex ${r.index}\n`;
  check(r.tlog_proof.startsWith(head) && r.tlog_proof.endsWith(r.checkpoint), "tlog-proof");
  return r;
}

/** The credential's ballots in the public log (for the SDK's recoveries), signature checked. */
export async function credentialBallots(cred) {
  const found = [];
  let start = 0;
  for (;;) {
    const page = (await call("GET", `/elections/${cred.election}/log/entries?start=${start}&limit=1000`)).json;
    for (const item of page.entries) {
      const x = item.entry;
      if (x.type === "ballot" && x.credential === cred.credential) {
        const { signature, ...rest } = x;
        if (ed25519.verify(unb64(signature), jcs(rest), unb64(cred.credential))) found.push(x);
      }
    }
    if (page.next === null || page.next === undefined) break;
    start = page.next;
  }
  return found;
}
