/**
 * lib/message: what `send` transmits — composed messages from flags, raw .eml files streamed
 * unchanged but for line endings, and address parsing for the command line.
 * @module
 */
export { collect, type ComposedMessage, composeMessage, type ComposeOptions } from "./compose.ts";
export { openRawMessage, type RawMessage, readFileChunks, spoolToTempFile } from "./raw.ts";
export { type RawScan, RawScanner, scanRaw } from "./raw-scan.ts";
export { CrlfNormalizer, normalizeCrlf } from "./crlf.ts";
export { formatAddressList, formatMailbox, type Mailbox, parseAddressList, parseMailbox } from "./address.ts";
export { splitAddressList } from "./address-list.ts";
export { MAX_LINE_OCTETS } from "./raw-scan.ts";
export { MESSAGE_FILE_LIMITS } from "./regular-file.ts";
