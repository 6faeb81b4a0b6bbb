import type { Express } from 'express';
import { POLICY, type PolicyRule } from '../../server/http/policy';

/**
 * Every route the app serves, read from Express's router (mounted routers included), so tests
 * that must cover every route (policy, fuzz) pick up new modules without being told.
 */
export type RouteInfo = { method: string; path: string; policy: PolicyRule | undefined };

type Layer = {
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
};

function join(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

function walk(stack: Layer[], prefix: string, out: RouteInfo[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      const first = layer.route.stack[0]?.handle as { [POLICY]?: PolicyRule } | undefined;
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        for (const path of paths) out.push({ method: method.toUpperCase(), path: join(prefix, path), policy: first?.[POLICY] });
      }
    } else if (layer.handle?.stack) {
      const raw = Array.isArray(layer.rawPath) ? layer.rawPath[0] : layer.rawPath;
      walk(layer.handle.stack, raw && raw !== '/' && typeof raw === 'string' ? join(prefix, raw) : prefix, out);
    }
  }
}

export function listRoutes(app: Express): RouteInfo[] {
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  const out: RouteInfo[] = [];
  walk(router.stack, '', out);
  return out;
}
