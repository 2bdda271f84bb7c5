/** The config's JSON Schema, derived from the valibot schema (committed as config/mail.schema.json). */
import { toJsonSchema } from "@valibot/to-json-schema";
import { ConfigSchema } from "./schema.ts";

/** The JSON Schema (draft-07) of a mailplan config, for editors and other tools. */
export function configJsonSchema(): Record<string, unknown> {
  // Checks that JSON Schema cannot express (CR/LF in values, relay references) stay with `check`.
  const schema = toJsonSchema(ConfigSchema, { errorMode: "ignore", target: "draft-07" });
  // Top-level `x-…` keys are free for YAML anchors, as in docker-compose files.
  return { $schema: "http://json-schema.org/draft-07/schema#", ...schema, patternProperties: { "^x-": {} } };
}
