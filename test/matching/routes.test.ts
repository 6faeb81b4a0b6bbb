import request from 'supertest';
import { applyForGroup } from '../../server/groups/applications';
import { proposeMatch } from '../../server/matching/matches';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';
import { SENTINELS } from '../families/factories';
import { readyGroup } from './factories';

let t: TestApp;
let staffA: SignedIn;
let staffB: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ MATCH_HOLD_DAYS: '10' });
  staffA = await signInAs(t, 'staff');
  staffB = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const profileForm = {
  adults: 2,
  children: 1,
  languages: 'ko',
  sgbvSurvivor: 'on',
  preferredRegion: 'ON',
  vettingStatus: 'cleared',
  vettedOn: '2026-09-15',
};

async function registerAvailable(): Promise<number> {
  const res = await staffA.postForm('/staff/families', { ...profileForm, ...SENTINELS });
  expect(res.status).toBe(303);
  const id = Number(/\/(\d+)(?:\?|$)/.exec(res.headers.location!)![1]);
  expect((await staffA.postForm(`/staff/families/${id}/status`, { status: 'available' })).status).toBe(303);
  return id;
}

test('a bad family form is shown again with messages and nothing is written', async () => {
  const before = await t.db.selectFrom('families').select('id').execute();
  const res = await staffA.postForm('/staff/families', { ...profileForm, adults: 0, vettedOn: '', languages: 'Korean language' });
  expect(res.status).toBe(400);
  expect(res.text).toContain('Please enter a whole number in range.');
  expect(res.text).toContain('A vetting decision needs its date.');
  expect(await t.db.selectFrom('families').select('id').execute()).toHaveLength(before.length);
});

test('a family cannot be made available before its vetting is cleared', async () => {
  const res = await staffA.postForm('/staff/families', { ...profileForm, vettingStatus: 'pending', vettedOn: '' });
  const id = Number(/\/(\d+)(?:\?|$)/.exec(res.headers.location!)![1]);
  expect((await staffA.postForm(`/staff/families/${id}/status`, { status: 'available' })).status).toBe(409);
});

test('staff pages render in English and French; the list shows case codes, never names', async () => {
  const id = await registerAvailable();
  const list = await staffA.agent.get('/staff/families');
  expect(list.status).toBe(200);
  expect(list.text).not.toContain(SENTINELS.names);
  expect((await staffA.agent.get('/staff/families/new')).status).toBe(200);
  const fr = await staffA.agent.get(`/staff/families/${id}?lang=fr`);
  expect(fr.text).toContain('Identité protégée');
  await staffA.agent.get('/staff/families?lang=en');
  for (const path of ['/staff/matches', '/staff/matching/assignment', '/staff/matching/groups', `/staff/families/${id}/suggestions`]) {
    expect((await staffA.agent.get(path)).status).toBe(200);
  }
  const sponsor = await signInAs(t, 'sponsor');
  expect((await sponsor.agent.get(`/staff/families/${id}`)).status).toBe(403);
  expect((await request(t.app).get(`/staff/families/${id}`)).status).toBe(303);
});

test('suggestions show each group with its named score parts; the best overall assignment is proposed pair by pair', async () => {
  const familyId = await registerAvailable();
  const group = await readyGroup(t.db, { familySize: 3 });
  const page = await staffA.agent.get(`/staff/families/${familyId}/suggestions?lang=en`);
  expect(page.text).toContain('Funds');
  expect(page.text).toContain('Settlement plan');
  expect(page.text).toContain('Priority needs');
  expect(page.text).toMatch(/Score \d+ of 1000/);

  const assignment = await staffA.agent.get('/staff/matching/assignment');
  expect(assignment.text).toContain(`name="groupId" value="${group.id}"`);
  const proposed = await staffA.postForm('/staff/matches', { familyId, groupId: group.id });
  expect(proposed.status).toBe(303);
  const matchPath = proposed.headers.location!.split('?')[0]!;
  // The proposer sees the four-eyes notice instead of the approve button.
  expect((await staffA.agent.get(matchPath)).text).toContain('another staff member must approve it');
  // Reject needs a reason.
  expect((await staffB.postForm(`${matchPath}/reject`, { reason: '' })).status).toBe(400);
  expect((await staffB.postForm(`${matchPath}/reject`, { reason: 'Language support not in place' })).status).toBe(303);
  expect((await staffB.agent.get(matchPath)).text).toContain('Rejected');
});

test("a group's public pages are the same before and after it is matched", async () => {
  const familyId = await registerAvailable();
  const group = await readyGroup(t.db, { familySize: 3 });
  const strip = (html: string) => html.replace(/<meta name="csrf-token" content="[^"]+">/g, '');
  const pages = async () => Promise.all([`/groups/${group.slug}`, '/groups', '/'].map(async (p) => strip((await request(t.app).get(p)).text)));
  const before = await pages();
  const proposed = await staffA.postForm('/staff/matches', { familyId, groupId: group.id });
  await staffB.postForm(`${proposed.headers.location!.split('?')[0]}/approve`, { shared: 'contact' });
  const after = await pages();
  expect(after[0]).toBe(before[0]);
  expect(after[1]).toBe(before[1]);
  // The campaign's pooled count moves; nothing else about the group does.
  expect(after[2]).not.toBe(before[2]);
});

test('holds expire lazily when staff open the matches page; staff change what an approved match shares (audited)', async () => {
  const familyId = await registerAvailable();
  const group = await readyGroup(t.db, { familySize: 3 });
  const longAgo = new Date(Date.now() - 30 * 86_400_000);
  const staffActor = { userId: staffA.user.id, label: `user:${staffA.user.id}` };
  const match = await t.db.transaction().execute((trx) => proposeMatch(trx, t.config, staffActor, { familyId, groupId: group.id }, longAgo));
  expect((await staffA.agent.get('/staff/matches?lang=en')).status).toBe(200);
  expect((await t.db.selectFrom('matches').select('status').where('id', '=', match.id).executeTakeFirstOrThrow()).status).toBe('expired');
  expect((await staffB.postForm(`/staff/matches/${match.id}/approve`, {})).status).toBe(409);

  const fresh = await staffA.postForm('/staff/matches', { familyId, groupId: group.id });
  const path = fresh.headers.location!.split('?')[0]!;
  expect((await staffB.postForm(`${path}/approve`, {})).status).toBe(303);
  expect((await staffA.postForm(`${path}/sharing`, { shared: 'current_location' })).status).toBe(303);
  const id = Number(path.split('/').pop());
  expect((await t.db.selectFrom('matches').select('shared_fields').where('id', '=', id).executeTakeFirstOrThrow()).shared_fields).toEqual(['current_location']);
  const audit = await t.db.selectFrom('audit_log').select('action').where('subject', '=', `match:${id}`).orderBy('id').execute();
  expect(audit.map((a) => a.action)).toEqual(['match.proposed', 'match.approved', 'match.sharing_changed']);
  expect((await staffA.postForm(`${path}/withdraw`, { reason: 'Group breakdown' })).status).toBe(303);
  expect((await t.db.selectFrom('families').select('status').where('id', '=', familyId).executeTakeFirstOrThrow()).status).toBe('available');
});

describe('priorities before points (issue 19)', () => {
  test('every group is listed with what stands in its way: checklist items, funds short by how much, too small, no SGBV support', async () => {
    const familyId = await registerAvailable(); // a survivor's family of 3
    const unapproved = await t.db.transaction().execute((trx) =>
      applyForGroup(trx, { name: 'Applied Only Group', city: 'Ottawa', province: 'ON', coordinatorName: 'C', coordinatorEmail: 'applied-only@example.test', languages: ['ko'], familySize: 3, story: '', locale: 'en' }),
    );
    const short = await readyGroup(t.db, { familySize: 3, fundsCents: 2_000_000 });
    const small = await readyGroup(t.db, { familySize: 2 });
    const noSgbv = await readyGroup(t.db, { familySize: 3, offers: false });
    const page = await staffA.agent.get(`/staff/families/${familyId}/suggestions?lang=en`);
    expect(page.status).toBe(200);
    const section = (id: number) => page.text.slice(page.text.indexOf(`id="group-${id}"`)).split('</section>')[0]!;
    expect(section(unapproved.id)).toContain('not ready: HanVoice staff must approve the group');
    expect(section(short.id)).toContain('not ready: Funds must cover the requirement');
    expect(section(short.id)).toContain('funds short of this family&#x27;s requirement by $6,700.00'); // 26,700 − 20,000
    expect(section(small.id)).toContain('takes a family of up to 2; this family has 3');
    expect(section(noSgbv.id)).toContain('no SGBV-informed support recorded');
    expect(section(noSgbv.id)).toContain('name="sgbvOverrideReason"');
    expect(section(short.id)).not.toContain('name="sgbvOverrideReason"');
    expect(page.text).not.toContain(`name="groupId" value="${noSgbv.id}">\n      <button type="submit">Propose this match`);
    const fr = await staffA.agent.get(`/staff/families/${familyId}/suggestions?lang=fr`);
    expect(fr.text).toContain('aucun soutien adapté aux survivantes de VSFG');
    await staffA.agent.get('/staff/families?lang=en');
  });

  test("a survivor's family goes to a group without SGBV support only with a recorded reason: refused without one, kept on the match and audited", async () => {
    const familyId = await registerAvailable();
    const group = await readyGroup(t.db, { familySize: 3, offers: false });
    // Proposing it the ordinary way is refused.
    const plain = await staffA.postForm('/staff/matches', { familyId, groupId: group.id });
    expect(plain.status).toBe(409);
    // The override form without a reason: the message beside the field, nothing written.
    const empty = await staffA.postForm('/staff/matches', { familyId, groupId: group.id, sgbvOverrideReason: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Please give the reason for matching without SGBV-informed support.');
    expect(empty.text).toContain(`aria-describedby="override-${group.id}-error"`);
    expect(await t.db.selectFrom('matches').select('id').where('family_id', '=', familyId).execute()).toEqual([]);

    const reason = 'The only group near her sister; a specialised service nearby has agreed to help.';
    const proposed = await staffA.postForm('/staff/matches', { familyId, groupId: group.id, sgbvOverrideReason: reason });
    expect(proposed.status).toBe(303);
    const id = Number(proposed.headers.location!.split('?')[0]!.split('/').pop());
    expect((await t.db.selectFrom('matches').select('sgbv_override_reason').where('id', '=', id).executeTakeFirstOrThrow()).sgbv_override_reason).toBe(reason);
    const shown = await staffB.agent.get(`/staff/matches/${id}?lang=en`);
    expect(shown.text).toContain('Proposed without SGBV-informed support');
    expect(shown.text).toContain('The only group near her sister');
    const audit = await t.db.selectFrom('audit_log').select('details').where('subject', '=', `match:${id}`).executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ sgbvOverride: true });
    expect(JSON.stringify(audit.details)).not.toContain('sister');
    // The approval keeps to the recorded override.
    expect((await staffB.postForm(`/staff/matches/${id}/approve`, {})).status).toBe(303);
  });

  test('staff see and change the priority order (data, audited, staff only)', async () => {
    const page = await staffA.agent.get('/staff/matching/assignment?lang=en');
    expect(page.text).toContain('Priority order');
    expect(page.text).toMatch(/id="order-1" name="order">\s*<option value="sgbv_survivor" selected>/);
    const bad = await staffA.postForm('/staff/matching/priorities', { order: ['medical_needs', 'medical_needs', 'sgbv_survivor'] });
    expect(bad.status).toBe(400);
    const saved = await staffA.postForm('/staff/matching/priorities', { order: ['sgbv_survivor', 'trauma_informed_support', 'medical_needs'] });
    expect(saved.status).toBe(303);
    expect((await staffA.agent.get(saved.headers.location!)).text).toContain('The priority order is saved.');
    expect((await t.db.selectFrom('matching_priorities').select('need').orderBy('position').execute()).map((r) => r.need)).toEqual([
      'sgbv_survivor',
      'trauma_informed_support',
      'medical_needs',
    ]);
    const audit = await t.db.selectFrom('audit_log').select('details').where('action', '=', 'matching.priorities_set').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ to: ['sgbv_survivor', 'trauma_informed_support', 'medical_needs'] });
    const sponsor = await signInAs(t, 'sponsor');
    expect((await sponsor.postForm('/staff/matching/priorities', { order: ['medical_needs', 'sgbv_survivor', 'trauma_informed_support'] })).status).toBe(403);
  });
});
