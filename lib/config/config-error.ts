import { MailplanError } from "../codes.ts";
import type { Problem } from "./problem.ts";

/** CONFIG_INVALID carrying every problem found, so callers can print them all at once. */
export class ConfigInvalidError extends MailplanError {
  readonly problems: Problem[];
  constructor(problems: Problem[], file?: string) {
    const n = problems.filter((p) => p.severity === "error").length;
    super("CONFIG_INVALID", `${file ?? "The config"} has ${n} problem${n === 1 ? "" : "s"}.`, "fix each problem listed; `mailplan check` lists them with their line and column");
    this.problems = problems;
  }
}
