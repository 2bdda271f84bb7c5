/** Route matching: which route carries mail from one sender to one recipient. First match wins. */
import type { RouteConfig } from "../config/schema.ts";
import { compileGlob } from "../config/glob.ts";

/** A route with its patterns compiled once. */
export interface RouteMatcher {
  name: string;
  index: number;
  matches(from: string, to: string): boolean;
}

const list = (g: string | string[] | undefined): string[] | null => (g === undefined ? null : typeof g === "string" ? [g] : g);

/** The route's `match` as lists of patterns (null = any address). */
export function matchLists(route: RouteConfig): { from: string[] | null; to: string[] | null } {
  return { from: list(route.match?.from), to: list(route.match?.to) };
}

/** Compiles each route's patterns once, keeping route order. */
export function compileMatchers(routes: readonly RouteConfig[]): RouteMatcher[] {
  return routes.map((route, index) => {
    const { from, to } = matchLists(route);
    const f = from?.map(compileGlob);
    const t = to?.map(compileGlob);
    return {
      name: route.name,
      index,
      matches: (sender, rcpt) => (!f || f.some((m) => m(sender))) && (!t || t.some((m) => m(rcpt))),
    };
  });
}

/**
 * Splits an envelope's recipients by route: one group per route, in route order; recipients keep
 * their order inside a group. Recipients no route matches are returned separately.
 */
export function splitRecipients(
  matchers: readonly RouteMatcher[],
  from: string,
  recipients: readonly string[],
): { groups: { index: number; recipients: string[] }[]; unrouted: string[] } {
  const byRoute = new Map<number, string[]>();
  const unrouted: string[] = [];
  for (const rcpt of recipients) {
    const m = matchers.find((m) => m.matches(from, rcpt));
    if (!m) unrouted.push(rcpt);
    else byRoute.set(m.index, [...(byRoute.get(m.index) ?? []), rcpt]);
  }
  const groups = [...byRoute.entries()].sort((a, b) => a[0] - b[0]).map(([index, recipients]) => ({ index, recipients }));
  return { groups, unrouted };
}
