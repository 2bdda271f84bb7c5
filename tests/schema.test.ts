/** The published JSON Schema stays in step with the valibot schema, and every shipped YAML points at it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { configJsonSchema } from "../lib/config/json-schema.ts";

const root = join(import.meta.dirname!, "..");
const committed = join(root, "config", "mail.schema.json");

test("config/mail.schema.json is what `mailplan schema` prints (regenerate: bun run mod.ts schema > config/mail.schema.json)", () => {
  assert.equal(readFileSync(committed, "utf8"), JSON.stringify(configJsonSchema(), null, 2) + "\n");
});

test("the schema is strict: unknown keys are rejected by editors too", () => {
  const s = configJsonSchema() as { additionalProperties?: boolean; required?: string[]; properties: Record<string, { additionalProperties?: { additionalProperties?: boolean } }> };
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.required, ["version", "relays", "routes"]);
  assert.equal(s.properties.relays.additionalProperties?.additionalProperties, false);
});

test("every shipped YAML config carries the yaml-language-server $schema modeline with a correct path", () => {
  const files = [
    join(root, "config", "mail.yaml"),
    ...readdirSync(join(root, "examples"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml")).map((f) => join(root, "examples", f)),
  ];
  assert.ok(files.length >= 3);
  for (const file of files) {
    const first = readFileSync(file, "utf8").split("\n")[0];
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    assert.ok(m, `${file} starts with the modeline`);
    assert.equal(join(dirname(file), m[1]), committed, `${relative(root, file)} points at config/mail.schema.json`);
  }
});
