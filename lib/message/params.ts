/**
 * MIME header parameters (RFC 2045 §5.1, RFC 2231): bare when a token, quoted when printable ASCII and short,
 * else `name*=utf-8''%XX…` split into `name*0*`, `name*1*`… segments that fold within 78 columns.
 * @module
 */
import { utf8 } from "./utf8.ts";

const SEGMENT = 60;
const HEX = "0123456789ABCDEF";

/** RFC 2231 attribute-char: a token character other than "*", "'" and "%". */
function attrChar(b: number): boolean {
  if (b <= 0x20 || b >= 0x7f) return false;
  return !`()<>@,;:\\"/[]?=*'%`.includes(String.fromCharCode(b));
}

/**
 * Formats one parameter as one or more `attr=value` strings (join with "; ").
 * @example formatParam("filename", "a.pdf") // ["filename=a.pdf"]
 * @example formatParam("filename", "my file.pdf") // ['filename="my file.pdf"']
 * @example formatParam("filename", "é.txt") // ["filename*=utf-8''%C3%A9.txt"]
 */
export function formatParam(attr: string, value: string): string[] {
  if (value !== "" && value.length <= SEGMENT && /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/.test(value)) {
    return [`${attr}=${value}`];
  }
  if (/^[\x20-\x7e]*$/.test(value) && value.length <= SEGMENT) {
    return [`${attr}="${value.replace(/(["\\])/g, "\\$1")}"`];
  }
  const pieces: string[] = [];
  for (const b of utf8(value)) pieces.push(attrChar(b) ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15]);
  const segments: string[] = [];
  let cur = "utf-8''";
  for (const p of pieces) {
    if (cur.length + p.length > SEGMENT && cur !== "utf-8''" && cur !== "") {
      segments.push(cur);
      cur = "";
    }
    cur += p;
  }
  segments.push(cur);
  if (segments.length === 1) return [`${attr}*=${segments[0]}`];
  return segments.map((s, i) => `${attr}*${i}*=${s}`);
}

/**
 * A header value with parameters, e.g. `attachment; filename="a.pdf"`.
 * @example withParams("text/plain", [["charset", "utf-8"]]) // "text/plain; charset=utf-8"
 */
export function withParams(base: string, params: ReadonlyArray<readonly [string, string]>): string {
  return [base, ...params.flatMap(([a, v]) => formatParam(a, v))].join("; ");
}
