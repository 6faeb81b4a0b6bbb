/**
 * The route × role check behind test/http/policy.test.ts, kept apart so it can be run on a
 * hand-built router too (which is how the test proves it catches an unprotected route).
 *
 * listRoutes walks an Express 5 router stack (recursing into mounted routers) and reports
 * every route's method, path and declared rule: the POLICY tag on its first handler.
 * checkAccess then requests each route as each visitor and compares with what the rule allows.
 */
import type { Express, Router } from 'express';
import { POLICY, type PolicyRule, type SessionUser } from '../../server/http/policy';

export type RouteInfo = { method: string; path: string; rule: PolicyRule | undefined };

type Layer = {
  route?: { path: unknown; stack: { method?: string; handle: unknown }[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
};

function ruleOf(handle: unknown): PolicyRule | undefined {
  return typeof handle === 'function' ? ((handle as unknown as Record<symbol, PolicyRule | undefined>)[POLICY] ?? undefined) : undefined;
}

function walk(stack: Layer[], prefix: string, out: RouteInfo[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const { route } = layer;
      const paths = (Array.isArray(route.path) ? route.path : [route.path]).map((p) => (typeof p === 'string' ? prefix + p : `${prefix}${String(p)}`));
      const methods = Object.keys(route.methods).filter((m) => route.methods[m]);
      for (const method of methods) {
        const name = method === '_all' ? 'all' : method;
        // The first handler that runs for this method: one registered for it, or for all methods.
        const first = route.stack.find((l) => l.method === undefined || l.method === method || method === '_all');
        for (const path of paths) out.push({ method: name, path, rule: ruleOf(first?.handle) });
      }
    } else if (layer.handle && Array.isArray(layer.handle.stack)) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath.replace(/\/$/, '') : '';
      walk(layer.handle.stack, prefix + mount, out);
    }
  }
}

/** Every route registered on an app or router, in registration order. */
export function listRoutes(appOrRouter: Express | Router): RouteInfo[] {
  const stack = ('router' in appOrRouter ? (appOrRouter as Express).router.stack : (appOrRouter as Router).stack) as unknown as Layer[];
  const out: RouteInfo[] = [];
  walk(stack, '', out);
  return out;
}

export function unprotectedRoutes(routes: RouteInfo[]): string[] {
  return routes.filter((r) => r.rule === undefined).map((r) => `${r.method.toUpperCase()} ${r.path}`);
}

/** A concrete URL for a route path: parameters become an id no row has, optional parts are kept. */
export function concretePath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`route path ${path} is not a string path: declare routes with string paths`);
  return path.replace(/[{}]/g, '').replace(/:[A-Za-z_$][\w$]*/g, '999999').replace(/\*[A-Za-z_$][\w$]*/g, 'x');
}

/** Someone requesting routes: no user (anonymous) or the SessionUser their session loads. */
export type Visitor = { name: string; user: SessionUser | null };

/** What each rule lets in: the specification the policy module is checked against. */
export const MAY_USE: Record<PolicyRule, (user: SessionUser | null) => boolean> = {
  anyone: () => true,
  signedIn: (u) => u !== null,
  staff: (u) => u?.role === 'staff',
  administrator: (u) => u?.role === 'staff' && u.administrator,
  groupMember: (u) => u?.role === 'sponsor' && u.groupId !== null,
  groupTreasurer: (u) => u?.role === 'sponsor' && u.groupId !== null && (u.groupRole === 'treasurer' || u.groupRole === 'coordinator'),
  groupCoordinator: (u) => u?.role === 'sponsor' && u.groupId !== null && u.groupRole === 'coordinator',
};

export type Outcome = { status: number; location?: string };

/** Whether a response is a refusal: sign in (the policy's redirect to /sign-in?next=…, or 401) or forbidden (403). */
export function isRefusal(outcome: Outcome): boolean {
  return outcome.status === 401 || outcome.status === 403 || (outcome.status >= 300 && outcome.status < 400 && (outcome.location ?? '').startsWith('/sign-in?next='));
}

/**
 * Requests every route as every visitor (send does the request) and returns the mismatches:
 * a refusal where the rule allows, anything else where it denies, a 500 anywhere, or the
 * wrong kind of refusal (anonymous → sign in, signed in → 403).
 */
export async function checkAccess(
  routes: RouteInfo[],
  visitors: Visitor[],
  send: (visitor: Visitor, method: string, path: string) => Promise<Outcome>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const route of routes) {
    if (!route.rule) {
      problems.push(`${route.method.toUpperCase()} ${route.path}: no policy`);
      continue;
    }
    const method = route.method === 'all' ? 'get' : route.method;
    const path = concretePath(route.path);
    for (const visitor of visitors) {
      const outcome = await send(visitor, method, path);
      const allowed = MAY_USE[route.rule](visitor.user);
      const label = `${method.toUpperCase()} ${route.path} as ${visitor.name} (allow.${route.rule}) → ${outcome.status}${outcome.location ? ` ${outcome.location}` : ''}`;
      if (outcome.status >= 500 && outcome.status !== 503) problems.push(`${label}: server error`);
      else if (allowed && isRefusal(outcome)) problems.push(`${label}: refused, should be allowed`);
      else if (!allowed && !isRefusal(outcome)) problems.push(`${label}: let in, should be refused`);
      else if (!allowed && visitor.user === null && outcome.status === 403) problems.push(`${label}: should ask to sign in`);
      else if (!allowed && visitor.user !== null && outcome.status !== 403) problems.push(`${label}: should be 403`);
    }
  }
  return problems;
}
