/**
 * Content types for attachments, guessed from the file extension. (No message/rfc822: RFC 2046
 * forbids base64 for it, and attachments are always base64.)
 * @module
 */

const TYPES: Record<string, string> = {
  txt: "text/plain", csv: "text/csv", htm: "text/html", html: "text/html", md: "text/markdown",
  ics: "text/calendar", xml: "application/xml", json: "application/json", log: "text/plain",
  pdf: "application/pdf", zip: "application/zip", gz: "application/gzip", tgz: "application/gzip",
  tar: "application/x-tar", "7z": "application/x-7z-compressed",
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp",
  svg: "image/svg+xml", ico: "image/vnd.microsoft.icon",
  mp3: "audio/mpeg", wav: "audio/wav", mp4: "video/mp4", webm: "video/webm",
  doc: "application/msword", xls: "application/vnd.ms-excel", ppt: "application/vnd.ms-powerpoint",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt: "application/vnd.oasis.opendocument.text", ods: "application/vnd.oasis.opendocument.spreadsheet",
  pem: "application/x-pem-file", asc: "application/pgp-signature",
};

/**
 * Content type for a file name, from a small extension table; application/octet-stream otherwise.
 * @example contentTypeFor("Report.PDF") // "application/pdf"
 */
export function contentTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0 || dot === fileName.length - 1) return "application/octet-stream";
  return TYPES[fileName.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}
