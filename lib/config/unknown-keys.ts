/**
 * Finds every key the schema does not know, anywhere in the document (valibot's strict objects
 * stop at the first one), and suggests the closest known key.
 */
import type { GenericSchema } from "valibot";
import type { ConfigPath, Problem } from "./problem.ts";
import { suggestion } from "./suggest.ts";

type AnySchema = GenericSchema & {
  type: string;
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  item?: AnySchema;
  value?: AnySchema;
  options?: AnySchema[];
};

/** Problems for unknown keys in `value` according to `schema` (objects, records, arrays, unions, optionals). */
export function unknownKeys(schema: GenericSchema, value: unknown, path: ConfigPath = []): Problem[] {
  const out: Problem[] = [];
  visit(schema as AnySchema, value, path, out);
  return out;
}

/** A copy of `value` without the keys `unknownKeys` reports, so the rest can still be validated. */
export function withoutUnknownKeys(schema: GenericSchema, value: unknown): unknown {
  const copy = structuredClone(value);
  for (const p of unknownKeys(schema, copy)) {
    let node = copy as Record<string | number, unknown>;
    for (const seg of p.path.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
    delete node[p.path[p.path.length - 1]];
  }
  return copy;
}

/** Looks through optional(); a v.pipe() schema already carries its base schema's fields. */
function unwrap(s: AnySchema): AnySchema {
  while (s.wrapped) s = s.wrapped;
  return s;
}

function objectOptions(s: AnySchema): AnySchema[] {
  s = unwrap(s);
  if (s.type === "union" && s.options) return s.options.flatMap(objectOptions);
  if (s.entries) return [s];
  return [];
}

function visit(schema: AnySchema, value: unknown, path: ConfigPath, out: Problem[]): void {
  const s = unwrap(schema);
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    const item = s.item ?? s.options?.map(unwrap).find((o) => o.item)?.item;
    if (item) value.forEach((v, i) => visit(item, v, [...path, i], out));
    return;
  }
  if (s.type === "record" && s.value) {
    for (const [k, v] of Object.entries(value)) visit(s.value, v, [...path, k], out);
    return;
  }
  const objects = objectOptions(s);
  if (objects.length === 0) return;
  const known = [...new Set(objects.flatMap((o) => Object.keys(o.entries!)))];
  for (const [k, v] of Object.entries(value)) {
    const owner = objects.find((o) => k in o.entries!);
    if (!owner) {
      out.push({
        severity: "error",
        path: [...path, k],
        atKey: true,
        message: `unknown key "${k}"`,
        hint: suggestion(k, known),
      });
    } else {
      visit(owner.entries![k], v, [...path, k], out);
    }
  }
}
