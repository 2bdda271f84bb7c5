/**
 * True for loopback hosts (127.0.0.0/8, ::1, localhost, *.localhost): traffic that never
 * leaves the machine, where plaintext auth and `verify: false` are acceptable for tests.
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return h.split(".").every((o) => Number(o) <= 255);
  return h === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(h) || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
}
