// A Stembus voter written from docs/client-protocol.md alone (not from cli/client.py), with the
// libraries the guide names. tests/js/test_node_voter.py runs it against a real `stembus serve`.
//
//   node voter.mjs vote BASE_URL ELECTION CODE SELECTIONS_JSON REVOTE_JSON   → JSON on stdout
//   node voter.mjs receipt BASE_URL ELECTION ENTRY_HASH                      → JSON on stdout
//
// Every check the guide asks of a client is made; any failure throws (exit status 1).

import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { ed25519 } from "@noble/curves/ed25519.js";
import canonicalize from "canonicalize";
import { createHash } from "node:crypto";

const enc = new TextEncoder();
const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const unb64 = (s) => new Uint8Array(Buffer.from(s, "base64"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));
const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const jcs = (obj) => enc.encode(canonicalize(obj));
const leafHash = (entry) => sha256(Uint8Array.of(0), jcs(entry));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const check = (ok, what) => {
  if (!ok) throw new Error(`check failed: ${what}`);
};

function api(base) {
  return async (method, path, { body, token } = {}) => {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (r.status >= 400) {
      throw new Error(`${method} ${path}: ${r.status} ${json && json.type}: ${json && json.detail}`);
    }
    return { status: r.status, json, headers: r.headers };
  };
}

// Step 0.2: split the verifier key at its first two '+' only.
function parseVerifierKey(vk) {
  const a = vk.indexOf("+");
  const b = vk.indexOf("+", a + 1);
  const name = vk.slice(0, a);
  const keyId = unhex(vk.slice(a + 1, b));
  const raw = unb64(vk.slice(b + 1));
  check(raw.length === 33 && raw[0] === 0x01, "verifier key is 0x01 ‖ 32-byte Ed25519 key");
  const publicKey = raw.slice(1);
  const id = sha256(enc.encode(name), Uint8Array.of(0x0a, 0x01), publicKey).slice(0, 4);
  check(equal(id, keyId), "verifier key id");
  return { name, keyId, publicKey };
}

// C2SP signed note: text, a blank line, "— <name> b64(key id ‖ signature)" lines.
function openNote(note, key) {
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
function verifyInclusion(leaf, index, size, proof, root) {
  check(index < size, "index in tree");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof.map(unhex)) {
    check(sn !== 0, "inclusion proof not too long");
    if (fn & 1 || fn === sn) {
      r = sha256(Uint8Array.of(1), p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = sha256(Uint8Array.of(1), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  check(sn === 0 && equal(r, root), "inclusion proof leads to the root");
}

async function logKey(call, e) {
  const k = (await call("GET", `/elections/${e}/log/key`)).json;
  const key = parseVerifierKey(k.verifier_key);
  check(key.name === k.origin && k.origin.endsWith(`/elections/${e}`), "log origin");
  check(b64(key.publicKey) === k.public_key, "public key");
  return key;
}

async function vote(base, e, code, selections, revote) {
  const call = api(base);
  const key = await logKey(call, e);
  // 0.3 the keys entry, in the log
  const keys = (await call("GET", `/elections/${e}/voting/keys`)).json;
  check(keys.entry.type === "keys" && keys.entry.log_key === `${key.name}+${hex(key.keyId)}+${b64(Uint8Array.of(1, ...key.publicKey))}`, "keys entry names the log key");
  const kp = (await call("GET", `/elections/${e}/log/proofs/inclusion?index=${keys.index}`)).json;
  const kcp = openCheckpoint(kp.checkpoint, key);
  verifyInclusion(leafHash(keys.entry), keys.index, kcp.size, kp.proof, kcp.root);
  // 1. log in
  const login = (await call("POST", `/elections/${e}/login`, { body: { code } })).json;
  const token = login.access_token;
  const group = login.group;
  // 0.4 the ballot definition, in one call, verified; the group's part read from the entry
  const ballot = (await call("GET", `/elections/${e}/ballot?group=${group}`)).json;
  const bcp = openCheckpoint(ballot.checkpoint, key);
  check(bcp.size === ballot.size, "ballot checkpoint size");
  verifyInclusion(leafHash(ballot.entry), ballot.index, bcp.size, ballot.proof, bcp.root);
  check(ballot.index < keys.index, "ballot definition before the keys entry");
  check(ballot.entry.type === "questions_published", "a consultation's ballot");
  const questions = ballot.entry.questions;
  for (const sel of [selections, revote]) {
    for (const [q, opts] of Object.entries(sel)) {
      const question = questions.find((x) => x.id === q);
      check(question !== undefined, `question ${q} exists`);
      check(opts.every((o) => question.options.some((x) => x.id === o)), `options of ${q}`);
      check(opts.length <= question.max_choices, `at most max_choices for ${q}`);
    }
  }
  // 2. credential
  const jwk = keys.entry.issuer_keys[group];
  const status = (await call("GET", `/elections/${e}/voting/credential`, { token })).json;
  check(status.issuer_key.n === jwk.n && status.issuer_key.e === jwk.e, "issuer key is my group's");
  const issuerKey = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "RSA-PSS", hash: "SHA-384" },
    true,
    ["verify"],
  );
  const sk = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(sk);
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const inputMsg = suite.prepare(pk);
  const prefix = inputMsg.slice(0, 32);
  check(equal(inputMsg.slice(32), pk), "input_msg = prefix ‖ pk_c");
  const { blindedMsg, inv } = await suite.blind(issuerKey, inputMsg);
  const cred = (
    await call("POST", `/elections/${e}/voting/credential`, {
      body: { blinded_msg: b64(blindedMsg) },
      token,
    })
  ).json;
  const issuerSig = await suite.finalize(issuerKey, inputMsg, unb64(cred.blind_sig), inv);
  // 3. ballots: the first, then a re-vote with seq 2
  const hpke = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });
  const recipientPublicKey = await hpke.kem.deserializePublicKey(
    new Uint8Array(unb64(keys.entry.sealing_key)).buffer,
  );
  const casts = [];
  for (const [seq, sel] of [
    [1, selections],
    [2, revote],
  ]) {
    const plain = jcs({ election: e, group, selections: sel });
    check(plain.length < keys.entry.ballot_size, "plaintext fits the ballot size");
    const pt = new Uint8Array(keys.entry.ballot_size);
    pt.set(plain);
    pt[plain.length] = 0x80;
    const info = enc.encode(`stembus/ballot/v1\n${e}\n${group}`);
    const sealed = await hpke.seal({ recipientPublicKey, info }, pt);
    const ciphertext = new Uint8Array([...new Uint8Array(sealed.enc), ...new Uint8Array(sealed.ct)]);
    check(ciphertext.length === 32 + keys.entry.ballot_size + 16, "ciphertext length");
    const entry = {
      type: "ballot",
      election: e,
      group,
      credential: b64(pk),
      prefix: b64(prefix),
      issuer_sig: b64(issuerSig),
      seq,
      ciphertext: b64(ciphertext),
    };
    entry.signature = b64(ed25519.sign(jcs(entry), sk));
    const got = await call("POST", `/elections/${e}/ballots`, { body: entry });
    check(got.status === 201, "a new ballot is 201");
    const promise = got.json;
    const entryHash = hex(leafHash(entry));
    check(promise.entry_hash === entryHash, "promise names my entry");
    check(got.headers.get("location") === `/api/v1/elections/${e}/receipts/${entryHash}`, "Location");
    const lines = openNote(promise.promise, key);
    check(
      lines.length === 3 &&
        lines[0] === "stembus/ballot-promise/v1" &&
        lines[1] === key.name &&
        lines[2] === entryHash,
      "promise text",
    );
    // a lost answer: the same entry again gets the same promise (200)
    const again = await call("POST", `/elections/${e}/ballots`, { body: entry });
    check(again.status === 200 && again.json.promise === promise.promise, "identical retry");
    const pending = (await call("GET", `/elections/${e}/receipts/${entryHash}`)).json;
    check(pending.status === "pending" || pending.status === "included", "receipt status");
    casts.push({ seq, entry_hash: entryHash, promise: promise.promise });
  }
  return { group, credential: b64(pk), casts };
}

async function receipt(base, e, entryHash) {
  const call = api(base);
  const key = await logKey(call, e);
  const got = (await call("GET", `/elections/${e}/receipts/${entryHash}`)).json;
  check(got.status === "included", "receipt included");
  const r = got.receipt;
  check(r.entry_hash === entryHash, "receipt entry hash");
  const cp = openCheckpoint(r.checkpoint, key);
  check(cp.size > r.index, "checkpoint covers the entry");
  verifyInclusion(unhex(entryHash), r.index, cp.size, r.inclusion_proof, cp.root);
  const head = `c2sp.org/tlog-proof@v1\nextra ${b64(unhex(entryHash))}\nindex ${r.index}\n`;
  check(r.tlog_proof.startsWith(head), "tlog-proof");
  check(r.tlog_proof.endsWith(r.checkpoint), "tlog-proof ends with the checkpoint");
  return { index: r.index, size: cp.size };
}

const [mode, base, e, ...rest] = process.argv.slice(2);
const out =
  mode === "vote"
    ? await vote(base, e, rest[0], JSON.parse(rest[1]), JSON.parse(rest[2]))
    : await receipt(base, e, rest[0]);
process.stdout.write(`${JSON.stringify(out)}\n`);
