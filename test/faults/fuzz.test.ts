import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../support/app';
import { makePledge, receive } from '../support/gifts';
import { createSession, SESSION_COOKIE } from '../../server/accounts/sessions';
import { createUser } from '../../server/accounts/users';
import type { PolicyRule } from '../../server/http/policy';
import { linkMemberAccount } from '../../server/groups/membership';
import { makeApprovedGroup } from '../groups/factories';
import { listRoutes, type RouteInfo } from '../support/route-policy';

/**
 * Every form and JSON route, found by walking the app's router (so routes added later are
 * covered without touching this file), fed thousands of generated hostile inputs: in the path
 * parameters, the query string, the body (form, JSON, malformed, wrong type) and the headers
 * Haven reads (Accept-Language, the language cookie). For each response: no 5xx, no stack trace
 * or source path in the body, and, when the input was rejected (4xx), no change to any table.
 *
 * Budget: FUZZ_TOTAL_MS (default 100 s) shared by the routes, between 1 and 5 s each
 * (FUZZ_MS_PER_ROUTE fixes it), and at most FUZZ_RUNS (default 3000) inputs per route.
 * FUZZ_ONLY=<regexp> fuzzes only the routes whose "METHOD /path" matches.
 */
const TOTAL_MS = Number(process.env.FUZZ_TOTAL_MS ?? 100_000);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 3_000);
const MIN_RUNS = 20;

/** Tables that legitimately change on any request (sessions, rate-limit counters), and the migrator's. */
const TABLES_THAT_MAY_CHANGE = new Set(['kysely_migration', 'kysely_migration_lock', 'sessions', 'rate_limits', 'login_attempts']);

const STACK_TRACE = /\bat [^\n]*\(?(?:\/|node:)[^\n)]*:\d+:\d+|node_modules|\/(?:server|dist)\/[\w/-]+\.(?:ts|js)\b|\b(?:TypeError|ReferenceError|RangeError|SyntaxError): /;

const NASTY = [
  '',
  ' ',
  "' OR '1'='1",
  "'; drop table payments; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  'prototype',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF\uD800',
  '%00',
  '%',
  '%E0%A4%A',
  '../../../../etc/passwd',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '-1',
  '1e309',
  '1e-7',
  '0x1F',
  '9007199254740993',
  // Ids and keyset cursors beyond what bigint or a double holds exactly, and numbers Number() reads but an id is not.
  '1e308',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '7e-323',
  ' 7',
  '\u0663',
  '99999999999999999999999999',
  '-99999999999999999999999999',
  '12.345',
  '1,000.00',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '\r\nSet-Cookie: x=1',
  '😀'.repeat(50),
  '\u202E\u0635\u0648\u0631',
  'x'.repeat(5_000),
  'fr',
  'en',
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 2_000 }) },
  { weight: 1, arbitrary: fc.bigInt().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

/** Header values must be visible Latin-1 to be sent at all. */
const headerValue = fc.oneof(fc.constantFrom('fr', 'en', '*', 'fr-CA,fr;q=0.9', 'xx;q=abc', ';;;', 'a'.repeat(500), ''), fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')));

function jsonLike(fields: string[]) {
  const value = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 3 }), fc.dictionary(hostileString, hostileString, { maxKeys: 3 }));
  return fc.oneof(
    fc.dictionary(fc.oneof(fc.constantFrom(...fields), hostileString), value, { maxKeys: 8 }),
    fc.jsonValue({ maxDepth: 4 }),
  );
}

type Input = {
  params: string[];
  query: [string, string][];
  acceptLanguage: string;
  langCookie: string;
  body:
    | { kind: 'none' }
    | { kind: 'form'; fields: [string, string][]; keepCsrf: boolean }
    | { kind: 'json'; value: unknown }
    | { kind: 'raw'; contentType: string; text: string };
};

/** Query keys Haven's pages read (links carry them, so no form on the page names them). */
const QUERY_KEYS = ['lang', 'page', 'cursor', 'after', 'before', 'actor', 'perGift', 'next', 'q', 'groupId', 'token', 'notice', 'sent', 'done', 'email', 'id', 'status', 'action', 'from', 'to'];

const PARAM = /:[A-Za-z_$][\w$]*|\*[A-Za-z_$][\w$]*/g;

function inputs(route: RouteInfo, fields: string[]) {
  const paramCount = (route.path.match(PARAM) ?? []).length;
  const fieldNames = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: hostileString });
  const body =
    route.method === 'get'
      ? fc.constant({ kind: 'none' as const })
      : fc.oneof(
          { weight: 4, arbitrary: fc.record({ kind: fc.constant('form' as const), fields: fc.array(fc.tuple(fieldNames, hostileString), { maxLength: 12 }), keepCsrf: fc.boolean() }) },
          { weight: 3, arbitrary: fc.record({ kind: fc.constant('json' as const), value: jsonLike(fields) }) },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('raw' as const),
              contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml'),
              text: fc.oneof(hostileString, fc.constantFrom('{"a":', '[1,2', 'a=%ZZ&b', '{"__proto__":{"polluted":1}}', 'a[b][c][d][e][f][g]=1', `${'a=1&'.repeat(500)}`)),
            }),
          },
          { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
        );
  return fc.record({
    params: fc.array(hostileString, { minLength: paramCount, maxLength: paramCount }),
    // Query keys: the page's own field names (a GET form's filters), common ones, and anything.
    query: fc.array(fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fields, ...QUERY_KEYS) }, { weight: 1, arbitrary: hostileString }), hostileString), { maxLength: 5 }),
    acceptLanguage: headerValue,
    langCookie: headerValue,
    body,
  }) as fc.Arbitrary<Input>;
}

let t: TestApp;
let server: Server;
let base: string;
let fingerprintQuery: string;
const summary: string[] = [];

async function fingerprint(): Promise<string> {
  const { rows } = await sql.raw<{ fp: string }>(fingerprintQuery).execute(t.db);
  return rows[0]!.fp;
}

const users = new Map<string, number>();

/**
 * Each route is fuzzed as someone its policy lets in, so the input reaches the handler: a
 * session cookie for staff or a sponsor, none for `anyone`. (Group routes need a sponsor in a
 * group: the sponsor coordinates an approved group.) A new session for every route: a fuzzed
 * POST /sign-out ends the one it was given, and the routes after it must still be signed in.
 */
async function sessionCookieFor(rule: PolicyRule | undefined): Promise<string> {
  const role = rule === 'staff' || rule === 'administrator' || rule === 'signedIn' ? 'staff' : rule?.startsWith('group') ? 'sponsor' : undefined;
  if (!role) return '';
  if (!users.has(role)) {
    const userId = await createUser(t.db, { email: `fuzz-${role}@example.org`, name: `Fuzz ${role}`, role, password: 'correct horse battery staple', administrator: role === 'staff' });
    if (role === 'sponsor') {
      // The coordinator of a real group, so group routes reach their handlers too.
      const group = await makeApprovedGroup(t.db, { coordinatorEmail: 'fuzz-sponsor@example.org' });
      await t.db.transaction().execute((trx) => linkMemberAccount(trx, group.id, 'fuzz-sponsor@example.org', userId));
    }
    users.set(role, userId);
  }
  return `${SESSION_COOKIE}=${await createSession(t.db, users.get(role)!)}`;
}

/** The form a route receives, read from the page of the same path: its field names, and the visitor's CSRF token and cookies. */
async function formOf(route: RouteInfo, routes: RouteInfo[]): Promise<{ fields: string[]; csrf?: string; cookie: string }> {
  const generic = ['amount', 'email', 'name', 'message', 'frequency', 'method', 'groupId', 'locale', 'anonymous', 'installments', 'password', 'token', 'next', '_csrf'];
  const session = await sessionCookieFor(route.rule);
  const hasPage = !PARAM.test(route.path) && routes.some((r) => r.method === 'get' && r.path === route.path);
  PARAM.lastIndex = 0;
  const res = await fetch(`${base}${hasPage ? route.path : '/'}`, { headers: { cookie: session }, redirect: 'manual' });
  const html = await res.text();
  const fields = hasPage ? [...new Set([...html.matchAll(/name="([^"]+)"/g)].map((m) => m[1]!))].filter((f) => !['viewport', 'robots', 'csrf-token'].includes(f)) : [];
  const csrf = /name="csrf-token" content="([^"]*)"/.exec(html)?.[1] ?? /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
  const cookie = [session, ...res.headers.getSetCookie().map((c) => c.split(';')[0]!)].filter(Boolean).join('; ');
  return { fields: [...fields, ...generic], csrf, cookie };
}

/**
 * A path segment as a hostile client would send it: text that looks like percent-encoding goes
 * raw (so malformed escapes such as `%E0%A4%A` reach the router), anything else is percent-encoded
 * byte by byte (lone surrogates become U+FFFD, as any client must send them).
 */
function pathSegment(value: string): string {
  if (/^[A-Za-z0-9%._~-]*$/.test(value)) return value;
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function buildRequest(route: RouteInfo, input: Input, form: { csrf?: string; cookie: string }): { url: string; init: RequestInit } {
  let i = 0;
  const path = route.path.replace(/[{}]/g, '').replace(PARAM, () => pathSegment(input.params[i++] ?? 'x'));
  const query = new URLSearchParams();
  for (const [k, v] of input.query) query.append(k, v);
  const headers: Record<string, string> = { 'accept-language': input.acceptLanguage };
  const cookies = [form.cookie, `lang=${encodeURIComponent(input.langCookie)}`].filter(Boolean);
  headers.cookie = cookies.join('; ');
  let body: string | undefined;
  const b = input.body;
  if (b.kind === 'form') {
    const params = new URLSearchParams();
    for (const [k, v] of b.fields) params.append(k, v);
    if (b.keepCsrf && form.csrf) params.set('_csrf', form.csrf);
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = params.toString();
  } else if (b.kind === 'json') {
    headers['content-type'] = 'application/json';
    if (form.csrf) headers['x-csrf-token'] = form.csrf;
    body = JSON.stringify(b.value) ?? 'null';
  } else if (b.kind === 'raw') {
    headers['content-type'] = b.contentType;
    body = b.text;
  }
  const qs = query.toString();
  return { url: `${base}${path}${qs ? `?${qs}` : ''}`, init: { method: route.method.toUpperCase(), headers, body, redirect: 'manual', signal: AbortSignal.timeout(10_000) } };
}

beforeAll(async () => {
  t = await createTestApp();
  // Compiled templates cached, as in production (NODE_ENV=test turns the cache off): the fuzz is about input, not template edits.
  t.app.enable('view cache');
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await receive(t.db, await makePledge(t.db, { amountCents: 12_345 }), 12_345, { reference: 'FUZZ-1' });
  await makePledge(t.db, { amountCents: 5_000 });
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(t.db);
  const watched = tables.rows.map((r) => r.name).filter((n) => !TABLES_THAT_MAY_CHANGE.has(n));
  fingerprintQuery = `select md5(concat_ws('|', ${watched.map((n) => `(select md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from "${n}" x)`).join(', ')})) as fp`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await t?.destroy();
  if (summary.length) process.stdout.write(`\nFuzz runs per route:\n${summary.join('\n')}\n`);
});

/**
 * Forms and JSON routes (every non-GET) and GET routes, which all read the query string and the
 * language headers; parameters are fuzzed where a path has them. Static files are not routes.
 */
function fuzzedRoutes(): RouteInfo[] {
  const only = process.env.FUZZ_ONLY ? new RegExp(process.env.FUZZ_ONLY) : undefined;
  return listRoutes(t.app).filter((r) => r.method !== 'all' && r.method !== 'head' && (!only || only.test(`${r.method.toUpperCase()} ${r.path}`)));
}

test('the router has routes to fuzz', () => {
  expect(fuzzedRoutes().length).toBeGreaterThan(0);
});

describe('hostile input never causes a 5xx, a stack trace, or a change to data when rejected', () => {
  // Routes are listed once the app exists; jest needs the tests declared up front, so one test walks them all.
  test('every route', async () => {
    const routes = fuzzedRoutes();
    const msPerRoute = Number(process.env.FUZZ_MS_PER_ROUTE ?? Math.max(1_000, Math.min(5_000, Math.floor(TOTAL_MS / routes.length))));
    const failures: string[] = [];
    for (const route of routes) {
      const form = await formOf(route, routes);
      let runs = 0;
      let rejected = 0;
      let baseline = await fingerprint();
      const started = Date.now();
      // fast-check abandons a run still in flight when the time budget ends (Promise.race in its
      // SkipAfterProperty), but the server goes on and may commit; wait for it before the next
      // route takes its baseline, or that route is blamed for this one's change.
      let inFlight: Promise<unknown> = Promise.resolve();
      const checkOne = async (input: Input) => {
        runs += 1;
        const { url, init } = buildRequest(route, input, form);
        const res = await fetch(url, init);
        const text = await res.text();
        if (res.status >= 500) throw new Error(`${res.status} for ${route.method} ${url}\n${text.slice(0, 400)}`);
        if (STACK_TRACE.test(text)) throw new Error(`stack trace or source path in the response to ${route.method} ${url}:\n${text.slice(0, 600)}`);
        if (res.status >= 400) {
          rejected += 1;
          if ((await fingerprint()) !== baseline) throw new Error(`${route.method} ${url} was rejected with ${res.status} but changed data`);
        } else if (route.method !== 'get') {
          baseline = await fingerprint(); // an accepted form may change data; a GET never should
        }
      };
      const property = fc.asyncProperty(inputs(route, form.fields), (input) => {
        const run = checkOne(input);
        inFlight = run.catch(() => undefined);
        return run;
      });
      // At least MIN_RUNS inputs whatever the machine's load, then as many as the time budget allows.
      let result = await fc.check(property, { numRuns: MIN_RUNS, endOnFailure: true });
      if (!result.failed) {
        result = await fc.check(property, { numRuns: RUNS_PER_ROUTE - MIN_RUNS, interruptAfterTimeLimit: msPerRoute, markInterruptAsFailure: false, endOnFailure: true });
      }
      await inFlight;
      summary.push(`  ${route.method.toUpperCase()} ${route.path}: ${runs} inputs (${rejected} rejected) in ${Date.now() - started} ms`);
      if (result.failed) failures.push(`${route.method.toUpperCase()} ${route.path}: ${String(result.errorInstance)}\n${fc.defaultReportMessage(result)}`);
      else if (runs < MIN_RUNS) failures.push(`${route.method.toUpperCase()} ${route.path}: only ${runs} inputs ran in the time budget`);
    }
    if (failures.length) throw new Error(failures.join('\n\n'));
  });
});
