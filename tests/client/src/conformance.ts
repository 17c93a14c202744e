// Run-time check of a response body against its schema in the very document the types were
// generated from (src/generated/openapi.json). The type-check only proves that this client agrees
// with the spec; this proves that the server does: a required field missing, a wrong JSON type,
// a value outside an enum or a property the spec does not document all fail the smoke.
import { readFileSync } from "node:fs";

interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

const doc = JSON.parse(
  readFileSync(new URL("../src/generated/openapi.json", import.meta.url), "utf8"),
) as { components?: { schemas?: Record<string, Schema> } };
const schemas = doc.components?.schemas ?? {};

function deref(s: Schema): Schema {
  while (s.$ref) {
    const name = s.$ref.replace(/^#\/components\/schemas\//, "");
    const target = schemas[name];
    if (!target) throw new Error(`spec: dangling $ref ${s.$ref}`);
    s = target;
  }
  return s;
}

/** Every property name a schema declares, through $ref and allOf. */
function declared(s: Schema): Set<string> | undefined {
  s = deref(s);
  let names: Set<string> | undefined = s.properties ? new Set(Object.keys(s.properties)) : undefined;
  for (const part of s.allOf ?? []) {
    const more = declared(part);
    if (more) names = new Set([...(names ?? []), ...more]);
  }
  return names;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** A response that disagrees with the spec or with what the smoke expects: reported without a stack. */
export class Mismatch extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function check(v: unknown, schema: Schema, at: string, out: string[], closed = true): void {
  const s = deref(schema);
  for (const part of s.allOf ?? []) check(v, part, at, out, false);
  const alts = s.oneOf ?? s.anyOf;
  if (alts) {
    const results = alts.map((a) => {
      const o: string[] = [];
      check(v, a, at, o);
      return o;
    });
    if (!results.some((o) => o.length === 0)) out.push(...results.flat());
  }
  const t = jsonType(v);
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      out.push(`${at}: is ${t} ${JSON.stringify(v)}, spec says ${types.join(" | ")}`);
      return;
    }
  }
  if (s.enum && !s.enum.includes(v)) out.push(`${at}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof v === "string" && s.format === "uuid" && !UUID.test(v)) out.push(`${at}: "${v}" is not a uuid`);
  if (typeof v === "string" && s.format === "date-time" && Number.isNaN(Date.parse(v)))
    out.push(`${at}: "${v}" is not a date-time`);
  if (t === "array" && s.items) (v as unknown[]).forEach((x, i) => check(x, s.items!, `${at}[${i}]`, out));
  if (t === "object") {
    const obj = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) out.push(`${at}: required property "${r}" missing`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in obj) check(obj[k], sub, `${at}.${k}`, out);
    const names = closed ? declared(s) : undefined;
    if (names) {
      for (const k of Object.keys(obj)) {
        if (names.has(k)) continue;
        if (typeof s.additionalProperties === "object") check(obj[k], s.additionalProperties, `${at}.${k}`, out);
        else out.push(`${at}: property "${k}" is not in the spec`);
      }
    } else if (closed && typeof s.additionalProperties === "object") {
      for (const [k, x] of Object.entries(obj)) check(x, s.additionalProperties, `${at}.${k}`, out);
    }
  }
}

/** Throws when `value` does not conform to `components.schemas[name]` (or an array of it). */
export function conforms(value: unknown, name: string, opts: { array?: boolean } = {}): void {
  if (!schemas[name]) throw new Error(`spec: no components.schemas["${name}"]`);
  const ref: Schema = { $ref: `#/components/schemas/${name}` };
  const out: string[] = [];
  check(value, opts.array ? { type: "array", items: ref } : ref, opts.array ? `${name}[]` : name, out);
  if (out.length) throw new Mismatch(`response does not match the spec:\n    ${out.join("\n    ")}`);
}
