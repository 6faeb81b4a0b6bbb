import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { sql } from 'kysely';
import { createApp } from '../../server/app';
import { REDACTED_PATHS } from '../../server/logger';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { testConfig, type TestApp } from '../support/app';
import { listRoutes } from '../support/route-policy';
import { signInAs } from '../support/session';
import { SENTINELS } from '../families/factories';
import { signInMember } from '../groups/factories';
import { readyGroup } from './factories';

/**
 * The families' identity must never leave family_identities' ciphertext except on the staff
 * family page and, after approval, the fields shared with the matched group. Sentinel values
 * go into every identity field through the real forms; then every table, every GET route (as a
 * visitor and as another group's member), the e-mails and the logs are searched for them.
 */
const sentinelValues = Object.values(SENTINELS);
const logLines: string[] = [];
let t: TestApp;
let database: TestDatabase;

function leaks(text: string): string[] {
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  return sentinelValues.filter((s) => text.includes(s) || text.toLowerCase().includes(hex(s)));
}

let familyId = 0;
let caseCode = '';
let groupId = 0;
let groupSlug = '';
let matchId = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = testConfig({ MATCHING_STAFF_EMAIL: 'matching@hanvoice.test' });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  // The app's own redaction paths, at the most verbose level.
  const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
  t = { ...database, app: createApp({ config, db: database.db, logger }), config };

  const staffA = await signInAs(t, 'staff');
  const staffB = await signInAs(t, 'staff');
  const created = await staffA.postForm('/staff/families', {
    adults: 1,
    children: 2,
    languages: 'ko, en',
    needs: 'childcare',
    sgbvSurvivor: 'on',
    traumaInformedSupport: 'on',
    preferredRegion: 'ON',
    vettingStatus: 'cleared',
    vettedOn: '2026-10-01',
    ...SENTINELS,
  });
  expect(created.status).toBe(303);
  familyId = Number(/\/staff\/families\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  caseCode = (await t.db.selectFrom('families').select('case_code').where('id', '=', familyId).executeTakeFirstOrThrow()).case_code;
  expect((await staffA.postForm(`/staff/families/${familyId}/status`, { status: 'available' })).status).toBe(303);

  const group = await readyGroup(t.db);
  groupId = group.id;
  groupSlug = group.slug;
  // An unrelated ready group, whose member must see nothing of the family.
  await readyGroup(t.db);

  const suggestions = await staffA.agent.get(`/staff/families/${familyId}/suggestions`);
  expect(suggestions.status).toBe(200);
  expect(leaks(suggestions.text)).toEqual([]);
  const proposed = await staffA.postForm('/staff/matches', { familyId, groupId });
  expect(proposed.status).toBe(303);
  matchId = Number(/\/staff\/matches\/(\d+)(?:\?|$)/.exec(proposed.headers.location!)![1]);
  expect((await staffA.postForm(`/staff/matches/${matchId}/approve`, { shared: 'names' })).status).toBe(403); // four-eyes over HTTP
  expect((await staffB.postForm(`/staff/matches/${matchId}/approve`, { shared: 'names' })).status).toBe(303);
});
afterAll(() => database.destroy());

test('the staff family page shows no identity until a staff member reveals it with a reason (positive control), uncached, and the reveal is audited', async () => {
  const staff = await signInAs(t, 'staff');
  const before = await sql<{ n: number }>`select count(*)::bigint as n from audit_log where action = 'family_identity.viewed'`.execute(t.db);
  const page = await staff.agent.get(`/staff/families/${familyId}`);
  expect(page.status).toBe(200);
  expect(page.headers['cache-control']).toBe('no-store');
  expect(leaks(page.text)).toEqual([]);
  const revealed = await staff.postForm(`/staff/families/${familyId}/reveal`, {
    fields: ['names', 'datesOfBirth', 'governmentFileNumbers', 'contact', 'currentLocation', 'notes', 'birthMonths'],
    reason: 'Positive control of the privacy test',
  });
  expect(revealed.status).toBe(200);
  expect(revealed.headers['cache-control']).toBe('no-store');
  expect(leaks(revealed.text).sort()).toEqual([...sentinelValues].sort());
  const after = await sql<{ n: number }>`select count(*)::bigint as n from audit_log where action = 'family_identity.viewed'`.execute(t.db);
  expect(after.rows[0]!.n).toBe(before.rows[0]!.n + 1);
});

test('the matched group sees only the shared field (names), and its view is audited', async () => {
  const coordinator = await signInMember(t, groupId, 'coordinator');
  const page = await coordinator.agent.get('/group/family');
  expect(page.status).toBe(200);
  expect(leaks(page.text)).toEqual([SENTINELS.names]);
  expect(page.text).not.toContain(caseCode);
  const audit = await t.db
    .selectFrom('audit_log')
    .select('details')
    .where('action', '=', 'family_identity.viewed')
    .where('actor_user_id', '=', coordinator.user.id)
    .execute();
  expect(audit).toHaveLength(1);
});

test('no identity value is in any plain column of any table (only family_identities ciphertext holds it)', async () => {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(t.db);
  expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['families', 'family_identities', 'matches', 'audit_log', 'outbox']));
  const found: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows =
      table_name === 'family_identities'
        ? await sql<{ row: string }>`select row_to_json(r)::text as row from (select family_id, format, key_id, updated_at from family_identities) r`.execute(t.db)
        : await sql<{ row: string }>`select row_to_json(r)::text as row from ${sql.table(table_name)} r`.execute(t.db);
    for (const { row } of rows.rows) for (const leak of leaks(row)) found.push(`${table_name}: ${leak}`);
  }
  expect(found).toEqual([]);
  // The ciphertext is there, and opaque.
  const sealed = await t.db.selectFrom('family_identities').select('ciphertext').where('family_id', '=', familyId).executeTakeFirstOrThrow();
  expect(leaks(sealed.ciphertext.toString('latin1'))).toEqual([]);
});

test('no public page or JSON response, nor any page for another group or a visitor, shows the identity or the case code', async () => {
  const routes = listRoutes(t.app).filter((r) => r.method === 'get');
  expect(routes.length).toBeGreaterThan(10);
  const otherGroup = await t.db.selectFrom('sponsor_groups').select('id').where('id', '!=', groupId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const other = await signInMember(t, otherGroup.id, 'coordinator');
  expect((await other.agent.get('/group/family')).text).not.toContain(SENTINELS.names);
  const visitors = [{ name: 'anonymous', agent: request.agent(t.app) }, { name: 'other group', agent: other.agent }];
  // Ids of the family, the group and the match, and the group's slug, in every parameter.
  const substitutions = [String(familyId), String(groupId), String(matchId), groupSlug];
  const found: string[] = [];
  let requests = 0;
  for (const route of routes) {
    const urls = new Set(substitutions.map((value) => route.path.replace(/[{}]/g, '').replace(/:[A-Za-z_$][\w$]*/g, value)));
    for (const url of urls) {
      for (const visitor of visitors) {
        for (const accept of ['text/html', 'application/json']) {
          const res = await visitor.agent.get(url).set('Accept', accept);
          requests += 1;
          expect(res.status).toBeLessThan(500);
          const body = res.text ?? '';
          for (const leak of leaks(body + JSON.stringify(res.headers))) found.push(`${visitor.name} GET ${url}: ${leak}`);
          if (body.includes(caseCode)) found.push(`${visitor.name} GET ${url}: case code`);
        }
      }
    }
  }
  expect(requests).toBeGreaterThan(40);
  expect(found).toEqual([]);
  // The campaign's pooled count reflects the approved match.
  const campaign = await request(t.app).get('/api/campaign');
  expect(campaign.body.familiesSponsored).toBe(1);
});

test('e-mails (rendered) and log lines carry no identity', async () => {
  const { renderEmail } = await import('../../server/notifications/emails');
  const mails = await t.db.selectFrom('outbox').select('payload').execute();
  expect(mails.length).toBeGreaterThan(0);
  for (const { payload } of mails) {
    const rendered = renderEmail(payload as Parameters<typeof renderEmail>[0]);
    expect(leaks(rendered.subject + rendered.text)).toEqual([]);
    expect(rendered.text).not.toContain(caseCode);
  }
  expect(logLines.length).toBeGreaterThan(0);
  expect(leaks(logLines.join('\n'))).toEqual([]);
  expect(logLines.join('\n')).not.toContain(caseCode);
});
