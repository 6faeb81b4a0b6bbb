import request from 'supertest';
import { writeAudit } from '../../server/audit/audit';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, signInAs, type SignedIn, TEST_PASSWORD } from '../support/session';

let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff', { name: 'Dana Staff' });
});
afterAll(() => t.destroy());

describe('layout navigation by role', () => {
  test('anonymous visitors see "Sign in" and no staff link', async () => {
    const res = await request(t.app).get('/sign-in').expect(200);
    expect(res.text).toContain('href="/sign-in"');
    expect(res.text).not.toContain('href="/staff"');
    expect(res.text).not.toContain('Sign out');
  });

  test('staff see the staff area link and a sign-out button that posts a CSRF token', async () => {
    const res = await staff.agent.get('/staff').expect(200);
    expect(res.text).toContain('href="/staff"');
    expect(res.text).toMatch(/<form method="post" action="\/sign-out"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/);
    expect(res.text).toContain('Dana Staff');
    for (const link of ['/staff/invitations', '/staff/users', '/staff/audit']) expect(res.text).toContain(`href="${link}"`);
  });

  test('the staff navigation is grouped into sections, and links gifts and pledges, on every staff page', async () => {
    for (const page of ['/staff', '/staff/gifts', '/staff/pledges', '/staff/families']) {
      const res = await staff.agent.get(page).expect(200);
      const nav = /<nav class="area-nav"[\s\S]*?<\/nav>/.exec(res.text)?.[0] ?? '';
      const sections = [...nav.matchAll(/class="area-nav__heading"[^>]*>([^<]+)</g)].map((m) => m[1]);
      expect(sections).toEqual(['Giving', 'Groups', 'Families and matching', 'Support', 'Reports', 'Administration']);
      for (const link of ['/staff/gifts', '/staff/pledges', '/staff/donors', '/staff/receipts', '/staff/gifts/stripe-events', '/staff/groups', '/staff/families', '/staff/matches', '/staff/schedules', '/staff/reports', '/staff/users', '/staff/audit']) {
        expect(nav).toContain(`href="${link}"`);
      }
      expect(nav).toContain(`href="${page}" aria-current="page"`);
    }
    const fr = await staff.agent.get('/staff?lang=fr').expect(200);
    expect(fr.text).toContain('Familles et jumelage');
    await staff.agent.get('/staff?lang=en').expect(200);
  });

  test('a sponsor sees neither the staff link nor (without a group yet) the group link, and /group is refused', async () => {
    const sponsor = await signInAs(t, 'sponsor');
    const res = await sponsor.agent.get('/sign-in').expect(200);
    expect(res.text).not.toContain('href="/staff"');
    expect(res.text).not.toContain('href="/group"');
    expect(res.text).toContain('Sign out');
    await sponsor.agent.get('/group').expect(403);
    const refused = await sponsor.agent.get('/staff').expect(403);
    expect(refused.text).toContain('You do not have access to this page.');
    const refusedFr = await sponsor.agent.get('/staff?lang=fr').expect(403);
    expect(refusedFr.text).toContain('Vous n’avez pas accès à cette page.');
  });
});

describe('security headers', () => {
  test('a strict Content-Security-Policy: no inline script or style, no framing, forms only to Haven', async () => {
    const res = await staff.agent.get('/staff').expect(200);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("font-src 'self';");
    expect(csp).not.toMatch(/https:(?!\/\/)/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    // No inline script or style in the pages themselves.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=/i);
  });
});

describe('people', () => {
  test('staff disable an account: it is signed out everywhere, cannot sign in, and the decision is audited', async () => {
    const sponsor = await signInAs(t, 'sponsor', { email: 'to.disable@example.org' });
    const page = await staff.agent.get('/staff/users').expect(200);
    expect(page.text).toContain('to.disable@example.org');
    const res = await staff.postForm(`/staff/users/${sponsor.user.id}/disable`);
    expect(res.status).toBe(303);
    expect((await sponsor.agent.get('/sign-in')).text).not.toContain('Sign out');
    const v = await anonymous(t);
    expect((await v.postForm('/sign-in', { email: 'to.disable@example.org', password: TEST_PASSWORD })).status).toBe(403);

    await staff.postForm(`/staff/users/${sponsor.user.id}/enable`).then((r) => expect(r.status).toBe(303));
    expect((await v.postForm('/sign-in', { email: 'to.disable@example.org', password: TEST_PASSWORD })).status).toBe(303);
    const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id']).where('subject', '=', `user:${sponsor.user.id}`).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'user.disabled', actor_user_id: staff.user.id },
      { action: 'user.enabled', actor_user_id: staff.user.id },
    ]);
  });

  test('staff cannot disable themselves; an unknown or malformed id is a 404', async () => {
    expect((await staff.postForm(`/staff/users/${staff.user.id}/disable`)).status).toBe(409);
    expect((await staff.postForm('/staff/users/424242/disable')).status).toBe(404);
    expect((await staff.postForm('/staff/users/abc/disable')).status).toBe(404);
    expect((await staff.postForm('/staff/users/99999999999999999999999/disable')).status).toBe(404);
    await staff.agent.get('/staff').expect(200);
  });
});

describe('audit log page', () => {
  beforeAll(async () => {
    await t.db.transaction().execute(async (trx) => {
      for (let i = 1; i <= 60; i++) {
        await writeAudit(trx, { actor: { userId: staff.user.id, label: 'Dana Staff' }, action: i % 2 ? 'group.approved' : 'payment.recorded', subject: `thing:${i}`, details: { n: i, note: '<b>bold</b>' } });
      }
    });
  });

  test('lists the newest first, with keyset paging to older entries', async () => {
    const first = await staff.agent.get('/staff/audit').expect(200);
    expect(first.text).toContain('thing:60');
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)![1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    expect(next).toMatch(/^\/staff\/audit\?before=\d+$/);
    const second = await staff.agent.get(next).expect(200);
    expect(second.text).not.toContain('>thing:60<');
    expect(second.text).toContain('>thing:1<');
    // User content is escaped.
    expect(first.text).not.toContain('<b>bold</b>');
    expect(first.text).toContain('&lt;b&gt;bold&lt;/b&gt;');
  });

  test('filters by action prefix, subject and person', async () => {
    const byAction = await staff.agent.get('/staff/audit?action=payment.').expect(200);
    expect(byAction.text).toContain('payment.recorded');
    expect(byAction.text).not.toContain('>group.approved<');
    const bySubject = await staff.agent.get('/staff/audit?subject=thing%3A7').expect(200);
    expect(bySubject.text).toContain('>thing:7<');
    expect(bySubject.text).not.toContain('>thing:8<');
    const byActor = await staff.agent.get(`/staff/audit?actor=${staff.user.id}&action=group.`).expect(200);
    expect(byActor.text).toContain('group.approved');
    const nobody = await staff.agent.get('/staff/audit?actor=424242').expect(200);
    expect(nobody.text).toContain('Nothing matches these filters.');
  });

  test('nonsense filters are a 400 with a message, never a 500', async () => {
    for (const query of ['actor=abc', 'before=-1', 'actor=1e99', 'action=a&action=b', `subject=${'x'.repeat(500)}`]) {
      const res = await staff.agent.get(`/staff/audit?${query}`);
      expect(res.status).toBe(400);
      expect(res.text).toContain('These filters could not be read.');
    }
    // A wildcard in the prefix is taken literally.
    const like = await staff.agent.get('/staff/audit?action=%25').expect(200);
    expect(like.text).toContain('Nothing matches these filters.');
  });
});
