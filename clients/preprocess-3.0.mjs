// Minimal fix-ups of the down-converted OpenAPI 3.0 document so that
// progenitor (clients/rust) accepts it. Run by clients/regenerate.sh.
//
// 1. `oneOf: [X, {type: "null"}]` (3.1's "X or null" that the down-converter
//    leaves as it is, e.g. the optional body of renew_lease) becomes `X` with
//    `nullable: true`; where it is a request body schema it becomes plain `X`
//    (the body itself stays optional).
// 2. progenitor allows one success type per operation. Where an operation
//    answers different JSON bodies on different 2xx codes (request_guest
//    201 Guest / 202 ProvisioningStarted, create_batch 200 plan / 202 batch,
//    reclaim 200 plan / 202 job), every such response gets the same new schema
//    `<OperationId>Response = oneOf [...]` (an untagged enum in Rust; the
//    variants have disjoint required fields).
// 3. A 2xx/3xx response without a body next to one with a body (ruleset's
//    `304 Not Modified`) is dropped: the client sends no If-None-Match, and a
//    304 would surface as an unexpected response.
// 4. `nullable` is removed from parameter schemas (ruleset's optional
//    If-None-Match header): an optional parameter is simply left out, and
//    progenitor cannot format a nullable header value.
// 5. utoipa inlines T into the generic pages `Page_<T>` (`items: [{...}]`); where
//    a schema `<T>` exists, `items` becomes `[$ref <T>]` so that the Rust
//    client reuses the named type (types::Guest, not an anonymous copy).
// 6. Error responses are declared `application/problem+json`; progenitor only
//    types `application/json` bodies, so the problem schema is declared under
//    `application/json` instead (it decodes the body whatever the header says):
//    errors become `Error::ErrorResponse(ResponseValue<types::Problem>)`.
// 7. An error response without a body next to one with a body (readyz's `400`
//    from the HTTP layer beside its `503` problem) is dropped: progenitor
//    allows one error type per operation, and such a 400 is never typed.
import { readFileSync, writeFileSync } from "node:fs";

const [, , file] = process.argv;
const doc = JSON.parse(readFileSync(file, "utf8"));

function isNull(s) {
  return s && typeof s === "object" && s.type === "null" && Object.keys(s).length === 1;
}

function fix(node) {
  if (Array.isArray(node)) return node.map(fix);
  if (!node || typeof node !== "object") return node;
  for (const k of Object.keys(node)) node[k] = fix(node[k]);
  for (const key of ["oneOf", "anyOf"]) {
    const alts = node[key];
    if (Array.isArray(alts) && alts.length === 2 && alts.some(isNull)) {
      const other = alts.find((a) => !isNull(a));
      delete node[key];
      if (other.$ref) {
        node.allOf = [other];
      } else {
        Object.assign(node, other);
      }
      node.nullable = true;
    }
  }
  return node;
}

for (const item of Object.values(doc.paths)) {
  for (const op of Object.values(item)) {
    const content = op?.requestBody?.content;
    if (!content) continue;
    for (const media of Object.values(content)) {
      const s = media.schema;
      const alts = s && (s.oneOf || s.anyOf);
      if (Array.isArray(alts) && alts.length === 2 && alts.some(isNull)) {
        media.schema = alts.find((a) => !isNull(a));
      }
    }
  }
}
fix(doc);

const pascal = (id) => id.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
for (const item of Object.values(doc.paths)) {
  for (const op of Object.values(item)) {
    if (!op || !op.responses) continue;
    for (const [code, r] of Object.entries(op.responses)) {
      const problem = r.content?.["application/problem+json"];
      if (/^[45]/.test(code) && problem && !r.content["application/json"]) {
        r.content = { "application/json": problem };
      }
    }
    const errors = Object.entries(op.responses).filter(([code]) => /^[45]/.test(code));
    if (errors.some(([, r]) => r.content) && errors.some(([, r]) => !r.content)) {
      for (const [code, r] of errors) if (!r.content) delete op.responses[code];
    }
    for (const prm of op.parameters || []) {
      if (prm.schema) delete prm.schema.nullable;
    }
    const ok = Object.entries(op.responses).filter(([code]) => /^[23]/.test(code));
    const withBody = ok.filter(([, r]) => r.content && Object.keys(r.content).length);
    if (withBody.length && withBody.length < ok.length) {
      for (const [code, r] of ok) {
        if (!(r.content && Object.keys(r.content).length) && code !== "204") delete op.responses[code];
      }
    }
    const json = withBody.filter(([, r]) => r.content["application/json"]);
    const schemas = [...new Set(json.map(([, r]) => JSON.stringify(r.content["application/json"].schema)))];
    if (schemas.length > 1) {
      const name = pascal(op.operationId) + "Response";
      doc.components.schemas[name] = {
        description: `Any of the success bodies of ${op.operationId}`,
        oneOf: schemas.map((s) => JSON.parse(s)),
      };
      for (const [, r] of json) r.content["application/json"].schema = { $ref: `#/components/schemas/${name}` };
    }
  }
}
for (const [name, schema] of Object.entries(doc.components.schemas)) {
  const m = /^Page_(.+)$/.exec(name);
  const items = schema.properties?.items;
  if (m && doc.components.schemas[m[1]] && items?.type === "array") {
    items.items = { $ref: `#/components/schemas/${m[1]}` };
  }
}
writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
