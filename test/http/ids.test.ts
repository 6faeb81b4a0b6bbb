import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { listRoutes } from '../support/route-policy';
import { createSession } from '../../server/accounts/sessions';
import { anonymous, signInAs, useSession } from '../support/session';
import { makeApprovedGroup, signInMember } from '../groups/factories';

/**
 * Ids and keyset cursors come from URLs anyone can type. Number() read `1e308` as a number and
 * the query failed on bigint: GET /staff/families?after=1e308 answered 500. One parser
 * (http/forms.ts idParam) now stands for all of them; this walks every route with each value
 * in every path parameter and in ?after= / ?before=, as a visitor the route lets in.
 */
jest.setTimeout(300_000);

const NOT_IDS = ['1e308', '9223372036854775808', '99999999999999999999', '0x1F', '-1', '1.5', '7e-323', '0', '%20%37', 'NaN'];

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('GET /staff/families?after=1e308 is a 400, not a 500', async () => {
  const staff = await signInAs(t, 'staff');
  const res = await staff.agent.get('/staff/families?after=1e308');
  expect(res.status).toBe(400);
  expect(res.text).toContain('request');
});

test('no id or cursor that is not an id makes any route answer 5xx', async () => {
  const staff = await signInAs(t, 'staff');
  const group = await makeApprovedGroup(t.db);
  const coordinator = await signInMember(t, group.id, 'coordinator');
  const problems: string[] = [];
  for (const route of listRoutes(t.app)) {
    if (route.method !== 'get' && route.method !== 'post') continue;
    const user = route.rule?.startsWith('group') ? coordinator.user : staff.user;
    for (const value of NOT_IDS) {
      // A fresh session per request: POST /sign-out must not sign the walk out.
      const who = await anonymous(t);
      useSession(who.agent, await createSession(t.db, user.id));
      const hasParams = /:[A-Za-z_$]/.test(route.path);
      const path = route.path.replace(/[{}]/g, '').replace(/:[A-Za-z_$][\w$]*/g, value);
      const url = `${path}?after=${value}&before=${value}&actor=${value}`;
      const res = route.method === 'get' ? await who.agent.get(url).redirects(0) : await who.postForm(url, { id: value, paymentId: value, donorId: value, installmentId: value, familyId: value, groupId: value });
      if (res.status >= 500) problems.push(`${route.method.toUpperCase()} ${url} → ${res.status}`);
      else if (hasParams && route.method === 'get' && res.status === 200 && !route.path.includes(':slug') && !route.path.includes(':token')) problems.push(`${route.method.toUpperCase()} ${url} → 200 for an id that names nothing`);
    }
  }
  expect(problems).toEqual([]);
});

test('a cursor beyond bigint on the public group list is answered, not a 500', async () => {
  const res = await request(t.app).get('/groups?after=99999999999999999999');
  expect(res.status).toBeLessThan(500);
});
