/** RFC 5322 address lists from --to/--cc/--bcc: quoted strings, comments, angle addresses, groups. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { splitAddressList } from "../../lib/message/address-list.ts";
import { parseAddressList } from "../../lib/message/address.ts";
import { listFlag } from "../../lib/cli/args.ts";
import { composeMessage } from "../../lib/message/compose.ts";
import { MailplanError } from "../../lib/codes.ts";

const invalid = (re: RegExp) => (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID" && re.test(e.message);

describe("splitAddressList", () => {
  const cases: [string, string[]][] = [
    ['"Doe, John" <j@x.org>', ['"Doe, John" <j@x.org>']],
    ['"Doe, John" <j@x.org>, ops@x.org', ['"Doe, John" <j@x.org>', "ops@x.org"]],
    ["j@x.org (night shift, ops), k@x.org", ["j@x.org (night shift, ops)", "k@x.org"]],
    ["j@x.org (nested (a, b) comment), k@x.org", ["j@x.org (nested (a, b) comment)", "k@x.org"]],
    ['"a\\", b" <a@x.org>, b@x.org', ['"a\\", b" <a@x.org>', "b@x.org"]],
    ["<a,b@x.org>, c@x.org", ["<a,b@x.org>", "c@x.org"]],
    ["Team: a@x.org, B <b@x.org>;, c@x.org", ["a@x.org", "B <b@x.org>", "c@x.org"]],
    ["Undisclosed recipients:;", []],
    ["a@[IPv6:::1], b@x.org", ["a@[IPv6:::1]", "b@x.org"]],
    [" , a@x.org,, ", ["a@x.org"]],
  ];
  for (const [input, want] of cases) it(input, () => assert.deepEqual(splitAddressList(input), want));

  it("unterminated quotes, comments, angles and groups are MESSAGE_INVALID naming what is open", () => {
    assert.throws(() => splitAddressList('"Doe, John <j@x.org>'), invalid(/quoted name .* is not closed/));
    assert.throws(() => splitAddressList("j@x.org (oops"), invalid(/comment .* is not closed/));
    assert.throws(() => splitAddressList("<j@x.org, k@x.org"), invalid(/angle address .* is not closed/));
    assert.throws(() => splitAddressList("Team: a@x.org, b@x.org"), invalid(/group .* is not closed with ;/));
  });
});

describe("send and plan split recipients the same RFC 5322 way", () => {
  it("--to '\"Doe, John\" <j@x.org>' is one recipient, with its display name", async () => {
    const flags = listFlag(['"Doe, John" <j@x.org>', "ops@x.org,Team: a@x.org (x, y), b@x.org;"]);
    assert.deepEqual(parseAddressList(flags, "recipient").map((m) => m.address), ["j@x.org", "ops@x.org", "a@x.org", "b@x.org"]);
    const msg = await composeMessage({ from: "me@x.org", to: flags.slice(0, 1), cc: flags.slice(1), subject: "s", text: "t", date: new Date(0), messageId: "<m@x.org>" });
    assert.deepEqual(msg.envelope.recipients, ["j@x.org", "ops@x.org", "a@x.org", "b@x.org"]);
    let head = "";
    for await (const c of msg.stream()) head += new TextDecoder().decode(c);
    assert.match(head, /^To: "Doe, John" <j@x\.org>\r$/m);
  });
  it("a comment is not part of the address", () => {
    assert.deepEqual(parseAddressList("j@x.org (night shift)", "recipient"), [{ address: "j@x.org", smtpUtf8: false }]);
    assert.deepEqual(parseAddressList('"Night (shift)" <j@x.org>', "recipient")[0].name, "Night (shift)");
  });
});
