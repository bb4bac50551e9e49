// The console's calls to the public /api/v1 API: JSON in and out, a bearer token where a route
// needs one, never a cookie. A file (CSV, PDF, JSON Lines) comes back as a Blob.

export class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem && problem.type}`);
    this.status = status;
    this.problem = problem || {};
    this.slug = String(this.problem.type || "").replace("/problems/", "");
  }
}

/**
 * One call. `body` is JSON unless `raw` is given ({data, type}: a file as it is).
 * `as`: "json" (default), "blob" or "text".
 */
export async function call(method, path, { body, raw, token, as = "json" } = {}) {
  const headers = { Accept: as === "json" ? "application/json" : "*/*" };
  let payload;
  if (raw) {
    headers["Content-Type"] = raw.type;
    payload = raw.data;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: payload,
    credentials: "omit",
    cache: "no-store",
  });
  if (r.status >= 400) {
    let problem = null;
    try {
      problem = await r.json();
    } catch {
      problem = null;
    }
    throw new ApiError(r.status, problem);
  }
  if (as === "blob") return { status: r.status, blob: await r.blob(), headers: r.headers };
  const text = await r.text();
  if (as === "text") return { status: r.status, text, headers: r.headers };
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, json, headers: r.headers };
}

/** A query string from an object, leaving out null, undefined and "". */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
