import request from 'supertest';
import { createGivingTest, deliverAll, giveForm, type GivingTest, postGive, startCardGift } from '../support/giving';
import { makeApprovedGroup } from '../groups/factories';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { impactOf } from '../../server/giving/thank-you';

/**
 * Issue 18, "Giving form" and "Thank-you page": amount tiles, fields that apply only to some
 * choices, province as a select, one donor-wall choice, and where cheques and e-transfers go.
 */
const CONTACT = { CONTACT_EMAIL: 'write-to@haven-test.example', ETRANSFER_EMAIL: 'etransfers@haven-test.example', CHEQUE_MAILING_ADDRESS: 'PO Box 4321, Station A, Toronto ON  M5W 1A2' };

let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest(CONTACT);
});
afterAll(() => t.destroyAll());

const pledgeOf = (email: string) =>
  t.db
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select(['pledges.id', 'pledges.amount_cents', 'pledges.frequency', 'pledges.installments', 'pledges.anonymous', 'pledges.wall_consent', 'donors.province'])
    .where('donors.email', '=', email)
    .executeTakeFirst();
const pledgeCount = async () => (await t.db.selectFrom('pledges').select('id').execute()).length;

/** The <div class="reveal"> that holds a conditional field, as rendered. */
const reveal = (html: string, when: string) => new RegExp(`<div class="reveal" data-show-when="${when}"[^>]*>`).exec(html)?.[0];

test('amounts are radio tiles in a fieldset with a legend; the typed amount, the months and the display name render hidden until their choice applies', async () => {
  const page = (await request(t.app).get('/give').expect(200)).text;
  expect(page).toMatch(/<fieldset class="tiles">\s*<legend>Amount<\/legend>/);
  expect(page).toContain('<label class="tile"><input type="radio" name="amount" value="100"> $100</label>');
  expect(page).toContain('<input type="radio" name="amount" value="other" id="amount">');
  // $50 once, anonymous by default: none of the three applies.
  expect(reveal(page, 'amount=other')).toContain(' hidden');
  expect(reveal(page, 'frequency=monthly')).toContain(' hidden');
  expect(reveal(page, 'wall=name')).toContain(' hidden');
  // The script that shows them is first-party; without it a noscript stylesheet shows every field.
  expect(page).toContain('<script src="/static/give-form.js" defer></script>');
  expect(page).toContain('<noscript><link rel="stylesheet" href="/static/give-form-noscript.css"></noscript>');
  expect((await request(t.app).get('/static/give-form-noscript.css').expect(200)).text).toContain('.give-form .reveal[hidden] { display: block; }');

  // A monthly gift refused for another reason comes back with its months shown, not hidden.
  const monthly = await postGive(t.app, giveForm({ frequency: 'monthly', months: '6', amount: 'other', customAmount: '30', wall: 'name', email: 'nope' }), 400);
  expect(reveal(monthly.text, 'frequency=monthly')).not.toContain('hidden');
  expect(reveal(monthly.text, 'amount=other')).not.toContain('hidden');
  expect(reveal(monthly.text, 'wall=name')).not.toContain('hidden');
  expect(monthly.text).toMatch(/id="months"[^>]*value="6"/);
});

test('a tile amount is accepted, and under "Another amount" the typed amount wins, written as people write it', async () => {
  await postGive(t.app, giveForm({ amount: '100', method: 'cheque', email: 'tile@example.org' }), 303);
  expect((await pledgeOf('tile@example.org'))?.amount_cents).toBe(10_000);
  await postGive(t.app, giveForm({ amount: 'other', customAmount: '50,00', method: 'cheque', email: 'comma@example.org' }), 303);
  expect((await pledgeOf('comma@example.org'))?.amount_cents).toBe(5_000);
  await postGive(t.app, giveForm({ amount: 'other', customAmount: '$75', method: 'cheque', email: 'dollar-sign@example.org' }), 303);
  expect((await pledgeOf('dollar-sign@example.org'))?.amount_cents).toBe(7_500);
  await postGive(t.app, giveForm({ amount: 'other', customAmount: '50달러', method: 'cheque', email: 'won@example.org' }), 303);
  expect((await pledgeOf('won@example.org'))?.amount_cents).toBe(5_000);
  const before = await pledgeCount();
  const bad = await postGive(t.app, giveForm({ amount: 'other', customAmount: '50.5.5', method: 'cheque', email: 'two-points@example.org' }), 400);
  expect(bad.text).toContain('<p class="field-error" id="amount-error">Enter an amount in dollars, for example 50 or 50.25.</p>');
  expect(bad.text).toMatch(/id="customAmount"[^>]*value="50.5.5"/);
  expect(await pledgeCount()).toBe(before);
});

test('months are ignored for a one-time gift, whatever the field still holds', async () => {
  await postGive(t.app, giveForm({ frequency: 'once', months: 'twelve', method: 'cheque', email: 'once-months@example.org' }), 303);
  await postGive(t.app, giveForm({ frequency: 'once', months: '6', method: 'cheque', email: 'once-six@example.org' }), 303);
  for (const email of ['once-months@example.org', 'once-six@example.org']) {
    const pledge = await pledgeOf(email);
    expect(pledge).toMatchObject({ frequency: 'once', installments: null });
    expect(await t.db.selectFrom('pledge_installments').select('seq').where('pledge_id', '=', pledge!.id).execute()).toHaveLength(1);
  }
  // For a monthly gift they still count, and are still checked.
  const bad = await postGive(t.app, giveForm({ frequency: 'monthly', months: 'twelve', method: 'cheque', email: 'monthly-months@example.org' }), 400);
  expect(bad.text).toContain('<p class="field-error" id="months-error">Enter a number of months between 1 and 120.</p>');
});

test('the province is a select of the 13 provinces and territories, named in the page language, stored as a code; another value is refused beside it and kept', async () => {
  const en = (await request(t.app).get('/give').expect(200)).text;
  const select = /<select id="province"[\s\S]*?<\/select>/.exec(en)![0];
  expect(select.match(/<option value="[A-Z]{2}">/g)).toHaveLength(13);
  expect(select).toContain('<option value="NU">Nunavut</option>');
  expect((await request(t.app).get('/give?lang=fr').expect(200)).text).toContain('<option value="QC">Québec</option>');
  expect((await request(t.app).get('/give?lang=ko').expect(200)).text).toContain('<option value="QC">퀘벡</option>');
  expect(en).toContain('<p class="hint" id="postalCode-hint">For example, M5V 2T6.</p>');

  await postGive(t.app, giveForm({ province: 'qc', method: 'cheque', email: 'lower-code@example.org' }), 303);
  expect((await pledgeOf('lower-code@example.org'))?.province).toBe('QC');

  const before = await pledgeCount();
  const res = await postGive(t.app, giveForm({ province: 'Ontario-ish', method: 'cheque', email: 'free-text@example.org' }), 400);
  expect(res.text).toMatch(/<select id="province" name="province" autocomplete="address-level1" aria-invalid="true" aria-describedby="province-error">/);
  expect(res.text).toContain('<option value="Ontario-ish" selected>Ontario-ish</option>');
  expect(res.text).toMatch(/<\/select>\s*<p class="field-error" id="province-error">Choose your province or territory from the list.<\/p>/);
  expect(await pledgeCount()).toBe(before);
  expect(await pledgeOf('free-text@example.org')).toBeUndefined();
});

test('the donor wall is one choice, name or anonymous; a post saying both is refused beside it and changes nothing', async () => {
  const page = (await request(t.app).get('/give').expect(200)).text;
  expect(page).toContain('<input type="radio" name="wall" value="anonymous" checked>');
  expect(page).not.toContain('name="anonymous"');
  expect(page).not.toContain('name="wallConsent"');

  const before = await pledgeCount();
  const both = await postGive(t.app, giveForm({ anonymous: 'on', wallConsent: 'on', displayName: 'Both Ways', method: 'cheque', email: 'both-ways@example.org' }), 400);
  expect(both.text).toContain('<p class="field-error" id="wall-error">Choose one: show your name, or give anonymously.</p>');
  expect(both.text).toContain('value="Both Ways"');
  expect(await pledgeCount()).toBe(before);

  await postGive(t.app, giveForm({ wall: 'name', displayName: 'The Chois', method: 'cheque', email: 'shown@example.org' }), 303);
  expect(await pledgeOf('shown@example.org')).toMatchObject({ anonymous: false, wall_consent: true });
  // Anonymous: no name; a message typed for the wall is shown under "Anonymous", none typed, nothing.
  await postGive(t.app, giveForm({ wall: 'anonymous', displayName: 'Hidden Name', publicMessage: 'Welcome!', method: 'cheque', email: 'anon-message@example.org' }), 303);
  expect(await pledgeOf('anon-message@example.org')).toMatchObject({ anonymous: true, wall_consent: true });
  await postGive(t.app, giveForm({ wall: 'anonymous', method: 'cheque', email: 'anon-quiet@example.org' }), 303);
  expect(await pledgeOf('anon-quiet@example.org')).toMatchObject({ anonymous: true, wall_consent: false });
});

test('cheque and e-transfer instructions name the configured addresses on the form, the pledged page and the e-mail; large gifts get the contact e-mail', async () => {
  const page = (await request(t.app).get('/give').expect(200)).text;
  expect(page).toContain(`Payable to HanVoice, mailed to: <span class="address">${CONTACT.CHEQUE_MAILING_ADDRESS}</span>`);
  expect(page).toContain(`Sent to ${CONTACT.ETRANSFER_EMAIL}.`);

  const large = await postGive(t.app, giveForm({ amount: 'other', customAmount: '250000' }), 400);
  expect(large.text).toContain(`For gifts above $100,000, please contact us. <a href="mailto:${CONTACT.CONTACT_EMAIL}">Write to ${CONTACT.CONTACT_EMAIL}</a>`);

  const cheque = await postGive(t.app, giveForm({ method: 'cheque', email: 'cheque-address@example.org' }), 303);
  const pledge = await pledgeOf('cheque-address@example.org');
  const pledged = (await request(t.app).get(cheque.headers.location!).expect(200)).text;
  expect(pledged).toContain(`Please make your cheque payable to HanVoice, write the reference HAVEN-${pledge!.id} on it, and mail it to:`);
  expect(pledged).toContain(`<p class="address" data-cheque-address>${CONTACT.CHEQUE_MAILING_ADDRESS}</p>`);
  expect(pledged).not.toContain('mail it to HanVoice');
  const chequeMail = await mailOfPledge(pledge!.id);
  expect(chequeMail.text).toContain(`mail it to:\n\n${CONTACT.CHEQUE_MAILING_ADDRESS}`);

  const etransfer = await postGive(t.app, giveForm({ method: 'etransfer', email: 'etransfer-address@example.org' }), 303);
  const ePledge = await pledgeOf('etransfer-address@example.org');
  const ePage = (await request(t.app).get(etransfer.headers.location!).expect(200)).text;
  expect(ePage).toContain(`Please send an Interac e-Transfer to ${CONTACT.ETRANSFER_EMAIL} with the reference HAVEN-${ePledge!.id} in the message.`);
  expect((await mailOfPledge(ePledge!.id)).text).toContain(`Interac e-Transfer to ${CONTACT.ETRANSFER_EMAIL} with the reference HAVEN-${ePledge!.id}`);
});

async function mailOfPledge(pledgeId: number) {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
  const message = rows.map((r) => r.payload as EmailMessage).find((m) => m.template === 'giving/pledge-instructions' && JSON.stringify(m.data).includes(`HAVEN-${pledgeId}"`));
  if (!message) throw new Error(`no pledge-instructions e-mail for pledge ${pledgeId}`);
  return renderEmail(message);
}

/** A card gift paid through the stand-in's Checkout; the thank-you page's path. */
async function paidCardGift(fields: Record<string, string>) {
  const { sessionId } = await startCardGift(t.app, fields);
  const create = t.stand.requests.filter((r) => r.path === '/v1/checkout/sessions').pop()!;
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const success = new URL(create.params.success_url);
  return success.pathname + success.search;
}

test('the pledged and thank-you pages name the group preference, as a preference', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Ottawa Welcome Circle' });
  const slug = (await t.db.selectFrom('sponsor_groups').select('slug').where('id', '=', group.id).executeTakeFirstOrThrow()).slug;
  const preference = 'Your gift supports Ottawa Welcome Circle. This is a preference, not a condition: HanVoice decides where gifts are needed most.';

  const pledged = await postGive(t.app, giveForm({ method: 'cheque', groupId: String(group.id), email: 'group-cheque@example.org' }), 303);
  expect((await request(t.app).get(pledged.headers.location!).expect(200)).text).toContain(preference);

  const thanks = (await request(t.app).get(await paidCardGift({ groupId: String(group.id) })).expect(200)).text;
  expect(thanks).toContain(preference);
  // The share prompt points at the group's page.
  expect(thanks).toContain(`<a class="share-url" href="${new URL(`/groups/${slug}`, t.config.publicUrl).toString()}">`);

  const none = (await request(t.app).get(await paidCardGift({})).expect(200)).text;
  expect(none).not.toContain('Your gift supports');
});

test('the thank-you page says what happens next: receipts per gift for a one-time gift, yearly for a monthly one, how a monthly gift is charged and stopped, the donor page, share links', async () => {
  const once = (await request(t.app).get(await paidCardGift({ amount: '50' })).expect(200)).text;
  expect(once).toContain('Your official tax receipt is issued and e-mailed to you as soon as the payment is confirmed.');
  expect(once).not.toContain('each month');
  expect(once).toContain('<a href="/donor">Your giving</a>');
  const campaign = encodeURIComponent(new URL('/', t.config.publicUrl).toString());
  // The campaign's share partial (views/partials/share-links.hbs), pointed at the campaign page.
  expect(once).toContain(`href="https://www.facebook.com/sharer/sharer.php?u=${campaign}"`);
  expect(once).toContain('href="https://wa.me/?text=');
  expect(once).toContain('href="mailto:?subject=');
  expect(once).toContain('href="https://x.com/intent/tweet?text=');
  expect(once).not.toMatch(/<script[^>]+src="https?:/);

  const monthly = (await request(t.app).get(await paidCardGift({ amount: '25', frequency: 'monthly' })).expect(200)).text;
  expect(monthly).toContain('Your card is charged $25.00 each month until you stop the gift.');
  expect(monthly).toContain('To stop it, use the link in your confirmation e-mail, or your giving page.');
  expect(monthly).toContain('Your gifts are receipted once a year');

  const fixed = (await request(t.app).get(await paidCardGift({ amount: '25', frequency: 'monthly', months: '6' })).expect(200)).text;
  expect(fixed).toContain('Your card is charged $25.00 each month for 6 months; the gift then ends by itself.');
});

test('the impact of a gift comes from the current cost table, for a family of four, rounded down', async () => {
  // A later edition than the seeded 2018 one becomes the current table: $24,000 a year of income
  // support for a family of four, so $2,000 a month and $24,000 / 365 = $65.753… a day.
  await t.db
    .insertInto('cost_tables')
    .values([
      { edition_on: '2030-01-01', family_size: 4, income_support_cents: 2_400_000, startup_cents: 800_000 },
      { edition_on: '2030-01-01', family_size: 0, income_support_cents: 170_000, startup_cents: 120_000 },
    ])
    .execute();
  // $100 / $65.753 = 1.52 days: about 1 day.
  const hundred = (await request(t.app).get(await paidCardGift({ amount: '100' })).expect(200)).text;
  expect(hundred).toContain('That is about 1 day of rent and food for a family of four.');
  expect(hundred).toContain('about $2,000 a month of income support for a family of four');
  // $250 / $65.753 = 3.80 days: about 3 days.
  expect((await request(t.app).get(await paidCardGift({ amount: '250' })).expect(200)).text).toContain('about 3 days of rent');
  // $5,000 / $2,000 = 2.5 months: about 2 months.
  expect((await request(t.app).get(await paidCardGift({ amount: 'other', customAmount: '5000' })).expect(200)).text).toContain('about 2 months of rent');
  // $25 is less than a day: what a day costs, $65.75 (rounded down).
  expect((await request(t.app).get(await paidCardGift({ amount: '25' })).expect(200)).text).toContain('about $65.75 a day');
  // In French, the same figures in French.
  const fr = (await request(t.app).get(`${await paidCardGift({ amount: '100' })}&lang=fr`).expect(200)).text;
  expect(fr).toContain('environ 1 jour de loyer');
});

test('impact by hand from the 2018 cost table (shared/DOMAIN.md: $21,200 a year of income support for a family of four)', () => {
  // $21,200 / 12 = $1,766.67 a month, quoted as $1,767 (to the dollar, the campaign page's figure); / 365 = $58.082… a day.
  // The counts are rounded down: $1,766 is 30 days, just short of a month.
  expect(impactOf(10_000, 2_120_000, '2018-05-01')).toEqual({ unit: 'days', count: 1, monthlyCents: 176_700, editionOn: '2018-05-01' }); // 100 / 58.08 = 1.72
  expect(impactOf(176_600, 2_120_000, '2018-05-01')).toMatchObject({ unit: 'days', count: 30 }); // 1,766 / 58.08 = 30.4: just short of a month
  expect(impactOf(176_667, 2_120_000, '2018-05-01')).toMatchObject({ unit: 'months', count: 1 });
  expect(impactOf(5_000, 2_120_000, '2018-05-01')).toEqual({ unit: 'perDay', perDayCents: 5_808, monthlyCents: 176_700, editionOn: '2018-05-01' });
  expect(impactOf(5_000, 0, '2018-05-01')).toBeUndefined();
});
