import request from 'supertest';
import { recordOfflinePayment } from '../../server/giving/offline-payments';
import { createTestApp, type TestApp } from '../support/app';
import { giveForm, postGive } from '../support/giving';
import { makeApprovedGroup, makeGroup } from './factories';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PLEDGE_RATE_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.destroy());

const staff = { userId: null, label: 'staff' };

test("a pay-later gift preferring a group shows on that group's bar and donor wall, and on no other group's", async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Wall Group', familySize: 1 });
  const other = await makeApprovedGroup(t.db, { name: 'Other Group' });
  const page = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  const give = /href="(\/give\?groupId=\d+)"/.exec(page.text)![1]!;
  const form = await request(t.app).get(give).expect(200);
  expect(form.text).toMatch(new RegExp(`<option value="${group.id}"[^>]*selected`));

  const res = await postGive(t.app, giveForm({ method: 'cheque', amount: '100', groupId: String(group.id), displayName: 'The Kims', wallConsent: 'on' }), 303);
  const pledgeId = Number(/^\/give\/pledged\/(\d+)/.exec(res.headers.location!)![1]);
  const pledged = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(pledged.text).toContain('Pledged, not yet received: $100');

  await t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents: 10_000, method: 'cheque', reference: 'G-1', receivedOn: '2026-11-21', actor: staff }));
  const received = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(received.text).toContain('Received: $100');
  expect(received.text).toContain('The Kims');
  const elsewhere = await request(t.app).get(`/groups/${other.slug}`).expect(200);
  expect(elsewhere.text).not.toContain('The Kims');
});

test('a group that is not approved cannot be named as a preference', async () => {
  const pending = await makeGroup(t.db);
  await postGive(t.app, giveForm({ method: 'cheque', amount: '20', groupId: String(pending.id) }), 400);
  expect(await t.db.selectFrom('pledges').select('id').where('group_id', '=', pending.id).execute()).toEqual([]);
});
