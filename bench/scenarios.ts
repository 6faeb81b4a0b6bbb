import type autocannon from 'autocannon';
import pg from 'pg';
import type { HavenProcess, ServerDatabase } from '../test/support/haven-process';

/**
 * What npm run bench measures. A scenario says why it cannot run yet (the module is not on
 * main, or there is nothing to show); page scenarios run again with a million payments.
 * New flows add an entry here.
 */
export type BenchContext = { database: ServerDatabase; haven: HavenProcess };

export type Scenario = {
  name: string;
  /** Pages run with 1,000 and with 1,000,000 payments; actions once. */
  kind: 'page' | 'action';
  /** Why it cannot run on this build, or undefined. */
  unavailable(ctx: BenchContext): Promise<string | undefined>;
  options(ctx: BenchContext): Promise<autocannon.Options>;
};

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await query<{ found: string | null }>(url, 'select to_regclass($1) as found', [table]);
  return rows[0]?.found !== null;
}

async function routeExists(ctx: BenchContext, method: string, path: string): Promise<boolean> {
  const res = await fetch(`${ctx.haven.url}${path}`, { method, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status !== 404;
}

export const scenarios: Scenario[] = [
  {
    name: 'GET /',
    kind: 'page',
    unavailable: async () => undefined,
    options: async (ctx) => ({ url: `${ctx.haven.url}/` }),
  },
  {
    name: 'GET /api/campaign',
    kind: 'page',
    unavailable: async () => undefined,
    options: async (ctx) => ({ url: `${ctx.haven.url}/api/campaign` }),
  },
  {
    name: 'GET /groups/:slug',
    kind: 'page',
    async unavailable(ctx) {
      if (!(await tableExists(ctx.database.url, 'sponsor_groups'))) return 'sponsor groups are not on main yet';
      const rows = await query<{ slug: string }>(ctx.database.url, `select slug from sponsor_groups where status = 'approved' order by id limit 1`);
      return rows[0] ? undefined : 'no approved sponsor group in the database to show';
    },
    async options(ctx) {
      const rows = await query<{ slug: string }>(ctx.database.url, `select slug from sponsor_groups where status = 'approved' order by id limit 1`);
      return { url: `${ctx.haven.url}/groups/${rows[0]!.slug}` };
    },
  },
  {
    name: 'POST /give (pay-later pledge)',
    kind: 'action',
    async unavailable(ctx) {
      if (!(await routeExists(ctx, 'GET', '/give'))) return 'the giving form is not on main yet';
      return 'giving is on main: wire this scenario to its form fields';
    },
    options: async (ctx) => ({ url: `${ctx.haven.url}/give` }),
  },
  {
    name: 'POST /webhooks/stripe',
    kind: 'action',
    async unavailable(ctx) {
      if (!(await routeExists(ctx, 'POST', '/webhooks/stripe'))) return 'Stripe webhooks are not on main yet';
      return 'webhooks are on main: wire this scenario to signed deliveries';
    },
    options: async (ctx) => ({ url: `${ctx.haven.url}/webhooks/stripe` }),
  },
];
