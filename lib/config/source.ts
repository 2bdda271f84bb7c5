/**
 * YAML text → JavaScript value, keeping a way back from a key path to a line and column so
 * every problem can be reported as FILE:LINE:COL.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ConfigPath, Problem } from "./problem.ts";

/** A parsed YAML document with its positions. */
export interface Source {
  file: string;
  /** The document as plain data (undefined when the YAML itself is broken). */
  value: unknown;
  /** YAML syntax errors and warnings, already located. */
  problems: Problem[];
  /** Line and column (1-based) of the value at `path`, or of its key with `atKey`; falls back to the nearest ancestor. */
  locate(path: ConfigPath, atKey?: boolean): { line: number; col: number };
}

/**
 * Parses YAML text. Anchors, aliases and `<<` merge keys are supported; duplicate keys are errors.
 */
export function parseSource(text: string, file: string): Source {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, uniqueKeys: true, prettyErrors: false });
  const pos = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const problems: Problem[] = [];
  const regionOf = topLevelRegions(text);
  const reported = new Set<number>();
  for (const [list, severity] of [[doc.errors, "error"], [doc.warnings, "warning"]] as const) {
    for (const e of [...list].sort((a, b) => a.pos[0] - b.pos[0])) {
      const at = pos(e.pos[0]);
      if (severity === "error") {
        // One broken line derails the parser for the rest of its block: only the first error of
        // each top-level block is the user's mistake, the others follow from it.
        const region = regionOf(at.line);
        if (reported.has(region)) continue;
        reported.add(region);
      }
      problems.push({
        severity,
        path: [],
        message: `YAML ${severity === "error" ? "syntax error" : "warning"}: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+.*$/, "")}`,
        hint: yamlHint(e.code, e.message),
        file,
        ...at,
      });
    }
  }
  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      problems.push({ severity: "error", path: [], message: `YAML could not be read: ${(e as Error).message}`, hint: "reduce alias nesting", file, line: 1, col: 1 });
    }
  }
  return {
    file,
    value,
    problems,
    locate(path, atKey = false) {
      const found = walk(doc, path, atKey);
      return found === undefined ? { line: 1, col: 1 } : pos(found);
    },
  };
}

/** The hint for a YAML parser error, by its code. */
function yamlHint(code: string, message: string): string {
  if (/tab/i.test(message)) return "indent with spaces: YAML does not allow tabs for indentation";
  if (code === "DUPLICATE_KEY") return "each key may appear once in a mapping: remove or rename one of the two";
  return "check indentation and quoting around this point";
}

/**
 * Maps a line number to the top-level block it belongs to (the line of the last key written at
 * column 1 at or before it; 0 before the first).
 */
function topLevelRegions(text: string): (line: number) => number {
  const starts: number[] = [];
  text.split("\n").forEach((l, i) => {
    if (/^[^\s#\-]/.test(l)) starts.push(i + 1);
  });
  return (line) => {
    let region = 0;
    for (const s of starts) if (s <= line) region = s;
    return region;
  };
}

/** Offset of the node at `path` (or its key), else of the deepest ancestor found. */
function walk(doc: Document, path: ConfigPath, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    while (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = findPair(doc, node.items, seg);
      if (pair) [keyNode, next] = [pair.key, pair.value];
    } else if (isSeq(node) && typeof seg === "number") {
      next = node.items[seg];
    }
    if (next === undefined && keyNode === undefined) return offset;
    const last = i === path.length - 1;
    if (last && atKey && keyNode !== undefined) return rangeStart(keyNode) ?? offset;
    offset = rangeStart(next ?? keyNode) ?? offset;
    node = next;
  }
  return offset;
}

/** Finds a key in a map's pairs, looking through `<<` merges (later keys win, as in toJS). */
function findPair(doc: Document, items: unknown[], key: string | number): { key: unknown; value: unknown } | undefined {
  for (const item of items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key)) return item;
  }
  for (const item of items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === "<<") {
      const sources = isSeq(item.value) ? item.value.items : [item.value];
      for (let src of sources) {
        while (isAlias(src)) src = (src as { resolve(d: Document): unknown }).resolve(doc);
        if (isMap(src)) {
          const p = findPair(doc, src.items, key);
          if (p) return p;
        }
      }
    }
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}
