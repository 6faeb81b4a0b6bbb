import type { Express } from 'express';
import { POLICY, type PolicyRule } from '../../server/http/policy';

export type RouteInfo = { method: string; path: string; policy: PolicyRule | undefined };

type Layer = {
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: Layer[] };
  slash?: boolean;
};

/**
 * Every route the app serves, read from its router, with the policy of its first handler. All
 * module routers are mounted at the root today; a router mounted under a prefix would need its
 * prefix here, so this refuses one rather than silently skipping its routes.
 */
export function listRoutes(app: Express): RouteInfo[] {
  const found: RouteInfo[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const first = layer.route.stack[0]?.handle as { [POLICY]?: PolicyRule } | undefined;
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) {
          for (const path of paths) found.push({ method: method.toUpperCase(), path, policy: first?.[POLICY] });
        }
      } else if (layer.handle?.stack) {
        if (!layer.slash) throw new Error('a router is mounted under a path prefix: teach test/support/routes.ts its prefix');
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}
