/** Where the config is: --config, else $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME (~/.config), else /etc (issue 11 §2). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { locateConfig } from "../lib/config/locate.ts";

const none = () => false;
const only = (p: string) => (x: string) => x === p;
const o = { home: "/home/u", cwd: "/work" };

describe("locateConfig", () => {
  it("--config wins, resolved against the working folder, even when missing (loading reports that)", () => {
    assert.deepEqual(locateConfig("mail.yaml", { MAILPLAN_CONFIG: "/x.yaml" }, { ...o, exists: none }), { found: true, path: "/work/mail.yaml", rule: "--config", tried: [] });
  });
  it("then $MAILPLAN_CONFIG", () => {
    const r = locateConfig(undefined, { MAILPLAN_CONFIG: "/srv/m.yaml", XDG_CONFIG_HOME: "/x" }, { ...o, exists: none });
    assert.deepEqual([r.path, r.rule], ["/srv/m.yaml", "$MAILPLAN_CONFIG"]);
  });
  it("then $XDG_CONFIG_HOME/mailplan/mail.yaml, else ~/.config/mailplan/mail.yaml (a relative XDG_CONFIG_HOME is ignored)", () => {
    const x = locateConfig(undefined, { XDG_CONFIG_HOME: "/xdg" }, { ...o, exists: only("/xdg/mailplan/mail.yaml") });
    assert.deepEqual([x.path, x.rule], ["/xdg/mailplan/mail.yaml", "$XDG_CONFIG_HOME"]);
    const h = locateConfig(undefined, { XDG_CONFIG_HOME: "rel" }, { ...o, exists: only("/home/u/.config/mailplan/mail.yaml") });
    assert.deepEqual([h.path, h.rule], ["/home/u/.config/mailplan/mail.yaml", "~/.config"]);
  });
  it("then /etc/mailplan/mail.yaml; none found: every place looked at", () => {
    const e = locateConfig(undefined, {}, { ...o, exists: only("/etc/mailplan/mail.yaml") });
    assert.deepEqual([e.path, e.rule], ["/etc/mailplan/mail.yaml", "/etc"]);
    assert.deepEqual(locateConfig(undefined, {}, { ...o, exists: none }), { found: false, path: null, rule: null, tried: ["/home/u/.config/mailplan/mail.yaml", "/etc/mailplan/mail.yaml"] });
  });
});
