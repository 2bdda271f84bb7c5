/** Types of system-packages.mjs for `deno check` (the runner itself is plain JavaScript for Node). */
export declare const PACKAGES: { pkg: string; present: () => boolean; scope: "postfix" | "all" }[];
export declare function onPath(cmd: string): boolean;
export declare function postfixTestFiles(root: string): string[];
export declare function runsPostfix(root: string, args: string[]): boolean;
export declare function decide(s: { missing: string[]; root: boolean; aptGet: boolean; postfixOnly: boolean }):
  | { action: "ok" }
  | { action: "install"; line: string; packages: string[] }
  | { action: "stop"; line: string };
export declare function ensureSystemPackages(root: string, args: string[], out?: (s: string) => void, err?: (s: string) => void): boolean;
