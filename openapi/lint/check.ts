// Compiled with `tsc --strict --noEmit` by tests/api/test_contract_lint.py: a frontend's typed
// use of the generated contract types (openapi/stembus.d.ts, from openapi/openapi.json by
// openapi-typescript). If the contract loses a field a voter's client reads or sends, or
// changes its type, this stops compiling.
import type { components, paths } from "../stembus";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

// What a voter sends
const login: Json<paths["/api/v1/elections/{election_id}/login"]["post"]["requestBody"]> = {
  code: "ABCD-EFGH-JKLM-NPQR-STUV",
};
const credential: Schemas["CredentialIn"] = { blinded_msg: "…" };
const ballot: Json<paths["/api/v1/elections/{election_id}/ballots"]["post"]["requestBody"]> = {
  type: "ballot",
  election: "k7m3example2",
  group: "all",
  credential: "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=",
  prefix: "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=",
  issuer_sig: "…",
  seq: 1,
  ciphertext: "…",
  signature: "…",
};

// What it reads back
type Cast = Json<paths["/api/v1/elections/{election_id}/ballots"]["post"]["responses"]["201"]>;
type Status = Json<
  paths["/api/v1/elections/{election_id}/receipts/{entry_hash}"]["get"]["responses"]["200"]
>;
function keep(cast: Cast): string {
  const promise: string = cast.promise;
  const hash: string = cast.entry_hash;
  return `${cast.election} ${hash} ${promise}`;
}
function receiptOf(s: Status): number | null {
  if (s.status === "pending") return null;
  const r: Schemas["Receipt"] | null | undefined = s.receipt;
  return r ? r.index : null;
}
function problem(p: Schemas["ProblemDetails"]): string {
  return `${p.type} ${p.status}`;
}

export { ballot, credential, keep, login, problem, receiptOf };
