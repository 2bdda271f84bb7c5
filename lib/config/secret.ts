/**
 * Secret references. A plan holds the reference (`{ env }`, `{ file }`), never the value; a
 * literal from the config is kept out of JSON (non-enumerable) and shown as "redacted".
 */
import process from "node:process";
import { MailplanError } from "../codes.ts";
import { resolvePath } from "./paths.ts";
import { FILE_LIMITS, readRegularFile } from "./regular-file.ts";
import type { SecretConfig } from "./schema.ts";

/** Where `{ env: NAME }` secrets are read: process.env by default, or an object (the library's `env`). */
export type SecretEnv = Readonly<Record<string, string | undefined>>;

/** A secret as a plan carries it: where to find the value, not the value. */
export type SecretRef = { env: string } | { file: string } | { literal: "redacted" };

/** Turns a config secret into a reference; a literal's value rides along, invisible to JSON. */
export function toSecretRef(secret: SecretConfig): SecretRef {
  if (typeof secret === "string") {
    const ref = { literal: "redacted" as const };
    Object.defineProperty(ref, "value", { value: secret, enumerable: false });
    return ref;
  }
  return "env" in secret ? { env: secret.env } : { file: secret.file };
}

/** Where a secret lives, in words, for messages (never the value). */
export function describeSecret(ref: SecretRef): string {
  if ("env" in ref) return `environment variable ${ref.env}`;
  if ("file" in ref) return `file ${ref.file}`;
  return "a literal in the config";
}

/**
 * Reads a secret's value at the moment it is needed. A file secret loses one trailing newline.
 * Throws CONFIG_INVALID naming where the secret was expected (never its value).
 */
export function resolveSecret(ref: SecretRef, baseDir: string, env: SecretEnv = process.env): string {
  if ("env" in ref) {
    const value = env[ref.env];
    if (value === undefined || value === "") {
      throw new MailplanError("CONFIG_INVALID", `The environment variable ${ref.env} is not set.`, `export ${ref.env}=… before running, or use { file: PATH }`);
    }
    return value;
  }
  if ("file" in ref) {
    const abs = resolvePath(baseDir, ref.file);
    const r = readRegularFile(abs, FILE_LIMITS.secret);
    if (!r.ok) {
      const hint = r.refusal.reason === "missing" ? "paths are relative to the config file; check it exists where mailplan runs" : r.refusal.hint;
      throw new MailplanError("CONFIG_INVALID", `The secret file ${abs} ${r.refusal.message}.`, hint);
    }
    return r.text.replace(/\r?\n$/, "");
  }
  return (ref as { value?: string }).value ?? "";
}
