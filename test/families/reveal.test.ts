import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';
import { SENTINELS } from './factories';

/**
 * Reveal on need: the staff family page carries the case code and the non-identifying facts;
 * each identity field is absent from its HTML until a staff member asks for it with a one-line
 * reason, and each reveal writes one audit row (who, when, which fields, why; never a value).
 */
const values = Object.values(SENTINELS);
const shown = (html: string) => values.filter((v) => html.includes(v));

let t: TestApp;
let staff: SignedIn;
let other: SignedIn;
let familyId = 0;
let caseCode = '';

async function reveals(where: { actor?: number } = {}) {
  let q = t.db.selectFrom('audit_log').select(['actor_user_id', 'action', 'subject', 'details', 'at']).where('action', '=', 'family_identity.viewed').where('subject', '=', `family:${familyId}`);
  if (where.actor) q = q.where('actor_user_id', '=', where.actor);
  return q.orderBy('id').execute();
}

beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff', { name: 'Hye-jin Caseworker' });
  other = await signInAs(t, 'staff', { name: 'Tae-yang Bookkeeper' });
  const created = await staff.postForm('/staff/families', {
    adults: 1,
    children: 2,
    languages: 'ko',
    needs: 'childcare',
    sgbvSurvivor: 'on',
    preferredRegion: 'ON',
    vettingStatus: 'cleared',
    vettedOn: '2026-10-01',
    ...SENTINELS,
  });
  expect(created.status).toBe(303);
  familyId = Number(/\/staff\/families\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  caseCode = (await t.db.selectFrom('families').select('case_code').where('id', '=', familyId).executeTakeFirstOrThrow()).case_code;
});
afterAll(() => t.destroy());

test('the family page shows the case code and profile, and no identity value, and records no view', async () => {
  const page = await staff.agent.get(`/staff/families/${familyId}`);
  expect(page.status).toBe(200);
  expect(page.headers['cache-control']).toBe('no-store');
  expect(page.text).toContain(caseCode);
  expect(page.text).toContain('Childcare');
  expect(shown(page.text)).toEqual([]);
  expect(page.text).toContain(`action="/staff/families/${familyId}/reveal"`);
  expect(await reveals()).toEqual([]);
});

test('revealing two fields with a reason shows exactly those two and writes one audit row with who, which fields and why', async () => {
  const res = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: ['names', 'contact'], reason: 'Confirming the airport pick-up by phone' });
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(shown(res.text).sort()).toEqual([SENTINELS.names, SENTINELS.contact].sort());
  const rows = await reveals();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    actor_user_id: staff.user.id,
    details: { purpose: 'staff_reveal', fields: ['names', 'contact'], reason: 'Confirming the airport pick-up by phone' },
  });
  expect(JSON.stringify(rows)).not.toMatch(/SENTINEL/);
  // Going back to the page hides them again.
  expect(shown((await staff.agent.get(`/staff/families/${familyId}`)).text)).toEqual([]);
});

test('a reveal without a reason, without a field, or with a multi-line reason shows nothing, records nothing and keeps what was typed', async () => {
  const before = (await reveals()).length;
  const noReason = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: 'names', reason: '   ' });
  expect(noReason.status).toBe(400);
  expect(noReason.text).toContain('Say why you need');
  expect(noReason.text).toMatch(/value="names" checked/);
  const noField = await staff.postForm(`/staff/families/${familyId}/reveal`, { reason: 'Checking the file' });
  expect(noField.status).toBe(400);
  expect(noField.text).toContain('value="Checking the file"');
  const twoLines = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: 'notes', reason: 'line one\nline two' });
  expect(twoLines.status).toBe(400);
  const unknown = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: 'passwordHash', reason: 'Curious' });
  expect(unknown.status).toBe(400);
  for (const res of [noReason, noField, twoLines, unknown]) expect(shown(res.text)).toEqual([]);
  expect(await reveals()).toHaveLength(before);
});

test('a reason that repeats an identity value is refused, so the audit log never holds one', async () => {
  const before = (await reveals()).length;
  const res = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: 'notes', reason: `Call ${SENTINELS.names} about housing` });
  expect(res.status).toBe(400);
  expect(res.text).toContain('not the family’s details');
  expect(shown(res.text)).toEqual([]);
  expect(await reveals()).toHaveLength(before);
});

test('editing a revealed field keeps the fields that stayed hidden', async () => {
  const revealed = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: 'notes', reason: 'Adding the settlement worker note' });
  expect(revealed.text).toContain(`action="/staff/families/${familyId}/identity"`);
  expect(shown(revealed.text)).toEqual([SENTINELS.notes]);
  const saved = await staff.postForm(`/staff/families/${familyId}/identity`, { fields: 'notes', notes: 'SENTINEL-NOTES-updated' });
  expect(saved.status).toBe(303);
  const all = await staff.postForm(`/staff/families/${familyId}/reveal`, { fields: ['names', 'datesOfBirth', 'governmentFileNumbers', 'contact', 'currentLocation', 'notes', 'birthMonths'], reason: 'Annual file review' });
  expect(all.text).toContain('SENTINEL-NOTES-updated');
  expect(shown(all.text).sort()).toEqual(values.filter((v) => v !== SENTINELS.notes).sort());
  const change = await t.db.selectFrom('audit_log').select('details').where('action', '=', 'family_identity.changed').where('subject', '=', `family:${familyId}`).orderBy('id', 'desc').executeTakeFirstOrThrow();
  expect(change.details).toMatchObject({ fields: ['notes'] });
});

test('the audit page filters by family (case code) and by staff member, and each staff member sees their own reveals', async () => {
  await other.postForm(`/staff/families/${familyId}/reveal`, { fields: 'currentLocation', reason: 'Booking the interpreter near them' });

  const byFamily = await staff.agent.get(`/staff/audit?family=${caseCode.toLowerCase()}`);
  expect(byFamily.status).toBe(200);
  expect(byFamily.text).toContain('Booking the interpreter near them');
  expect(byFamily.text).toContain('Confirming the airport pick-up by phone');
  expect(byFamily.text).toContain('family.registered');
  const byStaff = await staff.agent.get(`/staff/audit?family=${caseCode}&actor=${other.user.id}`);
  expect(byStaff.text).toContain('Booking the interpreter near them');
  expect(byStaff.text).not.toContain('Confirming the airport pick-up by phone');
  expect(byStaff.text).toContain('Tae-yang Bookkeeper');
  const unknownFamily = await staff.agent.get('/staff/audit?family=HV-ZZZZZZ');
  expect(unknownFamily.status).toBe(200);
  expect(unknownFamily.text).toContain('No family has that case code');

  const mine = await other.agent.get('/staff/audit/mine');
  expect(mine.status).toBe(200);
  expect(mine.text).toContain(caseCode);
  expect(mine.text).toContain('Booking the interpreter near them');
  expect(mine.text).not.toContain('Confirming the airport pick-up by phone');
  for (const page of [byFamily, byStaff, mine]) expect(shown(page.text)).toEqual([]);
});
