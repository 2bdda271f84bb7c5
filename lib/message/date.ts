/** RFC 5322 §3.3 date-time for the Date header. @module */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/**
 * Formats a date in UTC ("+0000"), so the same instant gives the same bytes on every machine.
 * @example formatDate(new Date(Date.UTC(2025, 1, 3, 4, 5, 6))) // "Mon, 03 Feb 2025 04:05:06 +0000"
 */
export function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError("formatDate: invalid Date");
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
