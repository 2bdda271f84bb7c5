/**
 * The sans-IO SMTP core: reply parser, commands, capabilities, SASL, body encoder and the session.
 * @module
 */
export * from "./errors.ts";
export * from "./reply.ts";
export * from "./command.ts";
export * from "./capabilities.ts";
export * from "./base64.ts";
export * from "./body.ts";
export * from "./types.ts";
export * from "./session.ts";
export * from "./reply-errors.ts";
export type { AuthMechanismName, Credentials, SaslClient } from "./auth/types.ts";
export { AUTO_ORDER, selectMechanism } from "./auth/select.ts";
export { plain } from "./auth/plain.ts";
export { login } from "./auth/login.ts";
export { xoauth2 } from "./auth/xoauth2.ts";
export { cramMd5 } from "./auth/cram-md5.ts";
export { validateSessionOptions } from "./session-options.ts";
export * from "./transactions.ts";
