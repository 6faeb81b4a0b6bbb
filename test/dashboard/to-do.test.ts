import { charityCalendar } from '../../server/calendar/charity-calendar';
import { addDays } from '../../server/calendar/dates';
import { listUnreceipted } from '../../server/receipts/issuing';
import { createTestApp, type TestApp } from '../support/app';
import { makePledge } from '../support/gifts';
import { giveAndReceive } from '../support/receipted-gifts';
import { makeApprovedGroup, makeGroup } from '../groups/factories';
import { signInAs, type SignedIn } from '../support/session';

/**
 * The staff dashboard is a to-do list: one line per kind of waiting work, its count linking to
 * where it is done, and, at zero, what would bring work there. One database for this file, so
 * each count is exactly what the test made.
 */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff', { name: 'Dana Staff' });
});
afterAll(() => t.destroy());

type Line = { key: string; count: number; href: string; text: string };

function toDoLines(html: string): Line[] {
  return [...html.matchAll(/<li class="to-do__item[^"]*" data-to-do="([a-zA-Z]+)">\s*<a class="to-do__count" href="([^"]+)"[^>]*><span>(\d+)<\/span>([^<]*)<\/a>\s*<p class="hint"[^>]*>([^<]*)<\/p>/g)].map((m) => ({
    key: m[1]!,
    href: m[2]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '='),
    count: Number(m[3]),
    text: `${m[4]!.trim()} — ${m[5]!.trim()}`,
  }));
}

const KEYS = ['applications', 'groupPhotos', 'matchesToApprove', 'pledgesOverdue', 'offlineThisWeek', 'receiptsDue', 'stripeEvents', 'schedulesOverdue', 'monthsShort'];

test('with nothing waiting, every line is zero, links to its page and says what would bring work there', async () => {
  const res = await staff.agent.get('/staff').expect(200);
  const lines = toDoLines(res.text);
  expect(lines.map((l) => l.key)).toEqual(KEYS);
  expect(lines.every((l) => l.count === 0)).toBe(true);
  expect(Object.fromEntries(lines.map((l) => [l.key, l.href]))).toEqual({
    applications: '/staff/groups',
    groupPhotos: '/staff/groups#photos-title',
    matchesToApprove: '/staff/matches',
    pledgesOverdue: '/staff/installments/overdue',
    offlineThisWeek: '/staff/pledges?status=active',
    receiptsDue: '/staff/receipts',
    stripeEvents: '/staff/gifts/stripe-events',
    schedulesOverdue: '/staff/schedules',
    monthsShort: '/staff/schedules',
  });
  expect(lines.find((l) => l.key === 'applications')!.text).toBe('group applications to review — No application is waiting. A group that applies at /groups/apply appears here.');
  expect(lines.find((l) => l.key === 'stripeEvents')!.text).toContain('would appear here');
  expect(res.text).toContain('Nothing is waiting for you');
  // No family yet: the first step is named and linked.
  expect(res.text).toContain('href="/staff/families/new"');

  // French counts zero in the singular.
  const french = await signInAs(t, 'staff');
  const fr = await french.agent.get('/staff?lang=fr').expect(200);
  expect(toDoLines(fr.text).find((l) => l.key === 'applications')!.text).toBe('demande de groupe à examiner — Aucune demande n’attend. Un groupe qui fait sa demande sur /groups/apply apparaît ici.');
});

test('each kind of waiting work is counted: applications, pay-later money overdue or due this week, receipts due, Stripe events held or failing', async () => {
  const today = charityCalendar(t.config.charityTimeZone).today();
  await makeGroup(t.db, { name: 'Applied One' });
  await makeGroup(t.db, { name: 'Applied Two' });
  const approved = await makeApprovedGroup(t.db, { name: 'Approved Already' });
  // A photo waiting for staff (one row: the upload path and its cleaning are test/groups/photos.test.ts's).
  await t.db.insertInto('group_photos').values({ group_id: approved.id, bytes: Buffer.from([0xff, 0xd8, 0xff]), content_type: 'image/jpeg', width: 1, height: 1, alt_text: 'Us' }).execute();

  // Two pay-later pledges overdue (one with two late instalments: still one pledge), one due in six days, one in eight, one card pledge due today (not offline).
  const instalment = (pledgeId: number, seq: number, dueOn: string) => t.db.insertInto('pledge_installments').values({ pledge_id: pledgeId, seq, due_on: dueOn, amount_cents: 10_000 }).execute();
  const lateA = await makePledge(t.db, { method: 'cheque' });
  await instalment(lateA, 1, addDays(today, -40));
  await instalment(lateA, 2, addDays(today, -10));
  const lateB = await makePledge(t.db, { method: 'etransfer' });
  await instalment(lateB, 1, addDays(today, -1));
  const thisWeek = await makePledge(t.db, { method: 'etransfer' });
  await instalment(thisWeek, 1, addDays(today, 6));
  const nextWeek = await makePledge(t.db, { method: 'cheque' });
  await instalment(nextWeek, 1, addDays(today, 7));
  const card = await makePledge(t.db, { method: 'card' });
  await t.db.updateTable('pledges').set({ status: 'active' }).where('id', '=', card).execute();
  await instalment(card, 1, today);

  // A received cheque: a receipt is due when its donor takes one per gift and has an address on file.
  await giveAndReceive(t.db, { email: 'receipted@example.org', amountCents: 10_000 });

  // One event held, one failing three times, one failing once, one applied.
  const event = (id: string, extra: Record<string, unknown>) =>
    t.db
      .insertInto('stripe_events')
      .values({ id, type: 'charge.refunded', object_id: null, stripe_created_at: new Date(), payload: '{}', ...extra })
      .execute();
  await event('evt_held', { held_at: new Date(), held_reason: 'api version' });
  await event('evt_failing', { attempts: 3, last_error: 'boom' });
  await event('evt_once', { attempts: 1, last_error: 'boom' });
  await event('evt_done', { processed_at: new Date() });

  const lines = toDoLines((await staff.agent.get('/staff').expect(200)).text);
  const counts = Object.fromEntries(lines.map((l) => [l.key, l.count]));
  // The receipts queue's own page decides what is due: per-gift donors with an address.
  const receiptsDue = (await listUnreceipted(t.db, { calendar: { charityTimeZone: t.config.charityTimeZone } })).filter((r) => r.frequency === 'per_gift' && r.hasAddress).length;
  expect(receiptsDue).toBe(1);
  expect(counts).toEqual({
    applications: 2,
    groupPhotos: 1,
    matchesToApprove: 0,
    pledgesOverdue: 2,
    offlineThisWeek: 1,
    receiptsDue,
    stripeEvents: 2,
    schedulesOverdue: 0,
    monthsShort: 0,
  });
  expect(lines.find((l) => l.key === 'pledgesOverdue')!.text).toMatch(/^pledges overdue — A cheque or e-transfer instalment is past its date/);
  expect(lines.find((l) => l.key === 'offlineThisWeek')!.text).toMatch(/^offline gift to record this week — /);
});
