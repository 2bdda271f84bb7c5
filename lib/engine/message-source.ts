/** A message held in memory as a MessageSource (small messages, tests, the demo). */
import { has8bit, headerSection, messageSize, needsSmtpUtf8 } from "../smtp/body.ts";
import type { MessageSource } from "./types.ts";

/** Wraps message bytes (any line endings) as a MessageSource. */
export function messageFromBytes(bytes: Uint8Array): MessageSource {
  const headers = new TextDecoder().decode(headerSection(bytes));
  const id = /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(headers)?.[1] ?? null;
  return {
    size: messageSize(bytes),
    has8bit: has8bit(bytes),
    needsSmtpUtf8: needsSmtpUtf8({ from: "", recipients: [] }, bytes),
    messageId: id,
    async *open() {
      yield bytes;
    },
  };
}
