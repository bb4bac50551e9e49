// A trustee's share, read and checked in the browser before anything is sent: the same two file
// forms `stembus trustee submit` reads (cli/ceremony.py read_share — the JSON share file, or the
// printed text file / pasted text, whitespace ignored) and the same checks as
// crypto/shamir.py Share.from_text (fields, ranges, the checksum: the first 8 bytes of SHA-256
// over the rest of the text form). Nothing here leaves the page.

import { hex, sha256 } from "./proto.js";

export const SHARE_PREFIX = "stembus-share-v1";
export const MAX_SHARE_FILE = 20_000; // a share file is < 1 kB; anything far larger is not one
const PRIME = (1n << 521n) - 1n;
const enc = new TextEncoder();

/** The share in `raw` (a file's text or pasted text), checked for election `e` and, when known,
 * the published trustees {k, n} and sealing key. Returns {text, election, index, k, n} or
 * {problem, vars} — `problem` a key of the catalogue (texts.js `share_*`). */
export async function readShare(raw, e, published = {}) {
  if (!raw || !raw.trim()) return { problem: "share_empty" };
  if (raw.length > MAX_SHARE_FILE) return { problem: "share_too_big" };
  let doc = null;
  try {
    doc = JSON.parse(raw);
  } catch {
    doc = null;
  }
  let source;
  let sealingKey = null;
  if (doc && typeof doc === "object" && typeof doc.share === "string") {
    source = doc.share;
    if (typeof doc.sealing_key === "string") sealingKey = doc.sealing_key;
  } else {
    // The printed form groups the share in blocks of 8: drop all whitespace first.
    const compact = raw.replace(/\s+/g, "");
    const start = compact.lastIndexOf(`${SHARE_PREFIX}:`);
    if (start < 0) return { problem: "share_none" };
    source = compact.slice(start);
    const m = /sealing key:\s*(\S+)/.exec(raw);
    if (m) sealingKey = m[1];
  }
  const text = source.replace(/\s+/g, "");
  if (!text.startsWith(`${SHARE_PREFIX}:`)) return { problem: "share_none" };
  // As Python's rsplit(":", 4): the four trailing fields never hold a colon.
  const rest = text.slice(SHARE_PREFIX.length + 1).split(":");
  if (rest.length < 5) return { problem: "share_malformed" };
  const election = rest.slice(0, -4).join(":");
  const [kOfN, indexText, value, checksum] = rest.slice(-4);
  const kn = /^(\d{1,3})-of-(\d{1,3})$/.exec(kOfN);
  if (!election || !kn || !/^\d{1,3}$/.test(indexText)) return { problem: "share_malformed" };
  if (!/^[0-9a-fA-F]{132}$/.test(value) || !/^[0-9a-fA-F]{16}$/.test(checksum)) return { problem: "share_malformed" };
  const [k, n, index] = [Number(kn[1]), Number(kn[2]), Number(indexText)];
  if (!(k >= 2 && k <= n && n <= 255 && index >= 1 && index <= n)) return { problem: "share_malformed" };
  if (BigInt(`0x${value}`) >= PRIME) return { problem: "share_malformed" };
  const body = `${SHARE_PREFIX}:${election}:${k}-of-${n}:${index}:${value.toLowerCase()}`;
  const expected = hex((await sha256(enc.encode(body))).slice(0, 8));
  if (expected !== checksum.toLowerCase()) return { problem: "share_checksum" };
  if (election !== e) return { problem: "share_other_election", vars: { election } };
  if (published.k && (published.k !== k || published.n !== n)) {
    return { problem: "share_other_ceremony", vars: { k: published.k, n: published.n } };
  }
  if (published.sealingKey && sealingKey && sealingKey !== published.sealingKey) {
    return { problem: "share_other_key" };
  }
  return { text, election, index, k, n };
}
