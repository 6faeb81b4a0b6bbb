import request from 'supertest';
import { publicCache } from '../../server/http/public-cache';
import { makeApprovedGroup, postForm, signInMember } from '../groups/factories';
import { createTestApp, type TestApp } from '../support/app';
import { makePledge, receive } from '../support/gifts';
import { totals } from '../support/giving';
import { anonymous, signInAs } from '../support/session';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('publicCache (the data public pages share)', () => {
  test('concurrent reads share one load; a value a little old is served while the next one loads', async () => {
    let now = 0;
    let loads = 0;
    let value = 'first';
    const cache = publicCache(
      1,
      async (key) => {
        loads += 1;
        await sleep(20);
        return { key, value };
      },
      100,
      () => now,
    );
    const [a, b] = await Promise.all([cache.get('k'), cache.get('k')]);
    expect(loads).toBe(1);
    expect(a).toBe(b);

    value = 'second';
    now = 400;
    expect((await cache.get('k')).value).toBe('first'); // fresh for half the period
    now = 700;
    expect((await cache.get('k')).value).toBe('first'); // a little old: served while the reload runs
    await sleep(50);
    expect((await cache.get('k')).value).toBe('second');
    expect(loads).toBe(2);
  });

  test('after a quiet spell the first visitor waits for fresh data instead of being shown old totals', async () => {
    let now = 0;
    let value = 'before the quiet spell';
    const cache = publicCache(1, async () => ({ value }), 100, () => now);
    expect((await cache.get('k')).value).toBe('before the quiet spell');
    value = 'after';
    now = 10 * 60_000; // ten minutes without a visitor
    expect((await cache.get('k')).value).toBe('after');
  });

  test('a failed load is not kept: the next read asks again', async () => {
    let down = true;
    const cache = publicCache(10, async () => {
      if (down) throw new Error('database unavailable');
      return { ok: true };
    });
    await expect(cache.get('k')).rejects.toThrow('database unavailable');
    down = false;
    await expect(cache.get('k')).resolves.toEqual({ ok: true });
  });

  test('with 0 seconds every read loads', async () => {
    let loads = 0;
    const cache = publicCache(0, async () => ({ n: ++loads }));
    await cache.get('k');
    await cache.get('k');
    expect(loads).toBe(2);
  });
});

describe('public pages with PUBLIC_CACHE_SECONDS=1', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_CACHE_SECONDS: '1' });
  });
  afterAll(() => t.destroy());

  const raised = (html: string) => /(\$[\d,]+) raised of/.exec(html)?.[1];
  const metaToken = (html: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];

  test('the campaign page is at most about two seconds behind the ledger; signed-in people get their own page', async () => {
    const staff = await signInAs(t, 'staff'); // before the clock starts: hashing a password takes a while on a busy machine
    const loadedAt = Date.now();
    const before = raised((await request(t.app).get('/').expect(200)).text);
    const pledge = await makePledge(t.db, { amountCents: 70_000 });
    await receive(t.db, pledge, 70_000, { reference: 'CACHE-1' });

    // While the shared data is fresh (half a second) everyone sees the totals as they were (on a busy
    // machine the gift may take longer than that to record: the unit tests above pin the windows with a clock);
    // staff get a page rendered for them (their menu).
    const anonymousPage = (await request(t.app).get('/').expect(200)).text;
    const staffPage = (await staff.agent.get('/').expect(200)).text;
    if (Date.now() - loadedAt < 500) {
      expect(raised(anonymousPage)).toBe(before);
      expect(raised(staffPage)).toBe(before);
    }
    expect(staffPage).toContain('href="/staff"');
    expect((await request(t.app).get('/').expect(200)).text).not.toContain('href="/staff"');

    // The shared data is at most a second old, and a page rendered from it is kept a second more.
    const start = Date.now();
    let shown = before;
    while (shown !== '$700' && Date.now() - start < 4_000) {
      await sleep(100);
      shown = raised((await request(t.app).get('/').expect(200)).text);
    }
    expect(shown).toBe('$700');
    expect(Date.now() - start).toBeLessThan(3_000);
    expect((await request(t.app).get('/api/campaign').expect(200)).body.raisedCents).toBe(70_000);
  });

  test('after a quiet spell the first visitor sees the ledger as it is, not the totals of the last visit', async () => {
    await request(t.app).get('/').expect(200);
    await request(t.app).get('/api/campaign').expect(200);
    await sleep(2_500); // nobody visits for longer than the README's bound
    const pledge = await makePledge(t.db, { amountCents: 30_000 });
    await receive(t.db, pledge, 30_000, { reference: 'CACHE-IDLE-1' });
    const expected = (await totals(t.db)).raisedCents; // the ledger itself
    expect(raised((await request(t.app).get('/').expect(200)).text)).toBe(`$${(expected / 100).toLocaleString('en-CA')}`);
    expect((await request(t.app).get('/api/campaign').expect(200)).body.raisedCents).toBe(expected);
  });

  test('each visitor of a cached page gets their own CSRF token, and it works for them only', async () => {
    const alice = await anonymous(t);
    const bob = await anonymous(t);
    const aliceToken = metaToken((await alice.agent.get('/').expect(200)).text);
    const bobToken = metaToken((await bob.agent.get('/').expect(200)).text);
    expect(aliceToken).toMatch(/^[\w-]{40,}$/);
    expect(bobToken).toMatch(/^[\w-]{40,}$/);
    expect(aliceToken).not.toBe(bobToken);
    expect((await alice.agent.get('/').expect(200)).text).not.toMatch(/csrf[0-9a-f]{32}/); // the placeholder never leaks
    // The token from the cached page is the one the visitor's cookie expects.
    expect(aliceToken).toBe(await alice.csrfToken());
    await bob.agent.post('/sign-out').type('form').send({ _csrf: aliceToken }).expect(403);
  });

  test('each language is cached apart', async () => {
    await request(t.app).get('/').expect(200);
    const fr = await request(t.app).get('/?lang=fr').expect(200);
    expect(fr.text).toContain('<html lang="fr">');
    expect((await request(t.app).get('/').set('accept-language', 'fr-CA').expect(200)).text).toContain('<html lang="fr">');
    expect((await request(t.app).get('/').expect(200)).text).toContain('<html lang="en">');
  });

  test('a group that edits its story sees it on its public page at once; unknown slugs stay 404', async () => {
    const group = await makeApprovedGroup(t.db, { name: 'Cache Friends' });
    expect((await request(t.app).get(`/groups/${group.slug}`).expect(200)).text).not.toContain('Fresh words');
    const coordinator = await signInMember(t, group.id, 'coordinator');
    await postForm(coordinator, '/group/page', { name: 'Cache Friends', story: 'Fresh words from the group.' }).then((r) => expect(r.status).toBe(303));
    expect((await request(t.app).get(`/groups/${group.slug}`).expect(200)).text).toContain('Fresh words from the group.');
    await request(t.app).get('/groups/no-such-group').expect(404);
    await request(t.app).get('/groups/no-such-group').expect(404);
  });
});
