import type Stripe from 'stripe';
import { parseDonorDetailsForm } from '../../server/giving/donor-details';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createGivingTest, deliverAll, formVisitor, giveForm, type GivingTest } from '../support/giving';
import { pdfText } from '../support/receipted-gifts';
import { englishFragments } from './pages';

/**
 * Issue 20: a Korean-speaking donor gives in Korean from the first page to the thank-you and
 * receipt e-mails, which are in Korean; the official receipt itself is in English or French (CRA),
 * as they chose, with their Korean name printed exactly (read back from the PDF by pdf-parse).
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

const HANGUL = /[\uac00-\ud7a3]/;

/** A visitor who chose Korean on the giving page (the switch's cookie), posting the form from there. */
async function koreanVisitor() {
  return formVisitor(t.app, '/give?lang=ko');
}

async function emailsTo(email: string): Promise<EmailMessage[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as EmailMessage).filter((m) => m.to === email);
}

function expectKorean(message: EmailMessage) {
  const email = renderEmail(message);
  expect({ template: message.template, locale: message.locale }).toEqual({ template: message.template, locale: 'ko' });
  expect(email.subject).toMatch(HANGUL);
  const english = englishFragments('ko').filter((f) => (email.subject + email.text).includes(f));
  expect({ template: message.template, english }).toEqual({ template: message.template, english: [] });
  return email;
}

test('the Korean giving form refuses bad input in Korean beside each field, keeps what was typed, and records nothing', async () => {
  const visitor = await koreanVisitor();
  const page = await visitor.agent.get('/give').expect(200);
  expect(page.text).toContain('<html lang="ko">');
  expect(page.text).toContain('공식 영수증 언어');
  expect(page.text).toMatch(/name="receiptLocale" value="en" checked/);
  const res = await visitor.post('/give', giveForm({ name: '김영희', amount: 'other', customAmount: '4.99', postalCode: '', email: 'grandma-bad@example.org', receiptLocale: 'ko' }));
  expect(res.status).toBe(400);
  expect(res.text).toContain('<p class="field-error" id="amount-error">온라인 최소 후원 금액은 $5입니다.</p>');
  expect(res.text).toContain('<p class="field-error" id="postalCode-error">우편번호를 입력해 주십시오.</p>');
  expect(res.text).toContain('<p class="field-error" id="receiptLocale-error">영수증 언어로 영어 또는 프랑스어를 골라 주십시오.</p>');
  expect(res.text).toContain('value="김영희"');
  expect(await t.db.selectFrom('donors').select('id').where('email', '=', 'grandma-bad@example.org').execute()).toEqual([]);
});

test('a pay-later pledge in Korean: the confirmation page and the instructions e-mail are Korean, amounts in $', async () => {
  const visitor = await koreanVisitor();
  const email = 'grandma-cheque@example.org';
  const res = await visitor.post('/give', giveForm({ name: '김영희', email, method: 'cheque', amount: '50' }));
  expect(res.status).toBe(303);
  const pledged = await visitor.agent.get(res.headers.location as string).expect(200);
  expect(pledged.text).toContain('<html lang="ko">');
  expect(pledged.text).toContain('$50.00를 약정하셨습니다.');
  const donor = await t.db.selectFrom('donors').select(['name', 'locale', 'receipt_locale']).where('email', '=', email).executeTakeFirstOrThrow();
  expect(donor).toEqual({ name: '김영희', locale: 'ko', receipt_locale: 'en' });
  const [instructions] = await emailsTo(email);
  const rendered = expectKorean(instructions!);
  expect(rendered.subject).toBe('HanVoice 후원 약정을 마무리하는 방법');
  expect(rendered.text).toContain('$50.00를 약정해 주셔서 감사합니다.');
});

test.each([
  { chosen: undefined, pdfLanguage: 'en', title: 'Official receipt for income tax purposes' },
  { chosen: 'fr', pdfLanguage: 'fr', title: 'Reçu officiel aux fins de l’impôt sur le revenu' },
] as const)('a card gift in Korean (receipt language $chosen): Stripe’s page in Korean, thank-you and receipt e-mails in Korean, the PDF in $pdfLanguage with the Korean name', async ({ chosen, pdfLanguage, title }) => {
  const visitor = await koreanVisitor();
  const email = `grandma-card-${pdfLanguage}@example.org`;
  t.stand.takeEvents();
  const res = await visitor.post('/give', giveForm({ name: '김영희', email, amount: '50', ...(chosen ? { receiptLocale: chosen } : {}) }));
  expect(res.status).toBe(303);
  const sessionId = /\/checkout\/(cs_\w+)$/.exec(res.headers.location as string)![1]!;
  // Stripe Checkout is asked for its Korean page.
  expect((t.stand.objects.get(sessionId) as unknown as Stripe.Checkout.Session).locale).toBe('ko');
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));

  const mails = await emailsTo(email);
  const thanks = mails.find((m) => m.template === 'giving/gift-confirmed')!;
  expect(expectKorean(thanks).text).toContain('보내 주신 후원금 $50.00를 잘 받았습니다.');
  const receiptMail = mails.find((m) => m.template === 'receipts/issued')!;
  const rendered = expectKorean(receiptMail);
  expect(rendered.subject).toMatch(/^공식 기부금 영수증 HV-\d{4}-\d{6}$/);
  expect(rendered.text).toContain('공제 대상 금액은 $50.00입니다.');
  expect(rendered.text).toContain('공식 영수증은 영어 또는 프랑스어로 발급됩니다');

  const receipt = await t.db.selectFrom('receipts').innerJoin('receipt_documents', 'receipt_documents.receipt_id', 'receipts.id').select(['receipts.locale', 'receipts.donor_name', 'receipt_documents.pdf']).where('receipts.serial', '=', rendered.subject.split(' ').pop()!).executeTakeFirstOrThrow();
  expect(receipt.locale).toBe(pdfLanguage);
  expect(receipt.donor_name).toBe('김영희');
  const text = await pdfText(receipt.pdf);
  expect(text).toContain(title);
  expect(text).toContain('김영희');
  // The receipt's own words are English or French: the only Hangul on it is her name.
  expect(text.replaceAll('김영희', '')).not.toMatch(HANGUL);
});

test('an English or French donor is not asked the receipt language, and gets receipts in their own', async () => {
  const en = await formVisitor(t.app, '/give?lang=en');
  expect((await en.agent.get('/give')).text).not.toContain('name="receiptLocale"');
  const fr = await formVisitor(t.app, '/give?lang=fr');
  const res = await fr.post('/give', giveForm({ email: 'fr-cheque@example.org', method: 'cheque', receiptLocale: 'en' }));
  expect(res.status).toBe(303);
  // Only a Korean page asks; a field sent from elsewhere changes nothing.
  expect(await t.db.selectFrom('donors').select(['locale', 'receipt_locale']).where('email', '=', 'fr-cheque@example.org').executeTakeFirstOrThrow()).toEqual({ locale: 'fr', receipt_locale: null });
});

test('the donor details form takes Korean as the e-mails’ language and English or French only for receipts', () => {
  const base = { name: '김영희', addressLine1: '100 Queen Street West', city: 'Toronto', province: 'ON', postalCode: 'M5H 2N2', country: 'CA' };
  const ok = parseDonorDetailsForm({ ...base, locale: 'ko', receiptLocale: 'fr' });
  expect(ok.ok && ok.details).toMatchObject({ locale: 'ko', receiptLocale: 'fr' });
  const byDefault = parseDonorDetailsForm({ ...base, locale: 'ko', receiptLocale: '' });
  expect(byDefault.ok && byDefault.details.receiptLocale).toBeNull();
  const refused = parseDonorDetailsForm({ ...base, locale: 'ko', receiptLocale: 'ko' });
  expect(refused).toMatchObject({ ok: false, errors: { receiptLocale: 'receiptLocale' } });
});

test('the donor page in Korean: her gifts and receipts with $ and Korean dates, no English, and the receipt language she may change', async () => {
  const email = 'grandma-donor-page@example.org';
  const visitor = await koreanVisitor();
  expect((await visitor.post('/give', giveForm({ name: '김영희', email, method: 'cheque', amount: '50' }))).status).toBe(303);
  const asked = await visitor.post('/donor', { email });
  expect(asked.status).toBe(200);
  expect(asked.text).toContain(`${email} 주소로 후원하신 적이 있다면`);
  const mail = (await emailsTo(email)).filter((m) => m.template === 'giving/donor-sign-in').pop()!;
  expectKorean(mail);
  const url = new URL(String(mail.data.url));
  const page = await visitor.agent.get(url.pathname).expect(200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  await visitor.agent.post(url.pathname).type('form').send({ _csrf: csrf }).expect(303);
  const account = await visitor.agent.get('/donor/account').expect(200);
  expect(account.text).toContain('<html lang="ko">');
  expect(account.text).toContain('$50.00');
  expect(account.text).toMatch(/\d{4}년 \d{1,2}월 \d{1,2}일 후원/);
  expect(englishFragments('ko').filter((f) => account.text.includes(f))).toEqual([]);
  expect(account.text).toContain('<option value="ko" selected lang="ko">한국어</option>');

  const token = /name="_csrf" value="([^"]+)"/.exec(account.text)![1]!;
  const details = { name: '김영희', addressLine1: '100 Queen St W', addressLine2: '', city: 'Toronto', province: 'ON', postalCode: 'M5H 2N2', country: 'CA', locale: 'ko', receiptLocale: 'fr' };
  await visitor.agent.post('/donor/details').type('form').send({ ...details, _csrf: token }).expect(303);
  expect(await t.db.selectFrom('donors').select(['locale', 'receipt_locale']).where('email', '=', email).executeTakeFirstOrThrow()).toEqual({ locale: 'ko', receipt_locale: 'fr' });
  const saved = await visitor.agent.get('/donor/account?done=details').expect(200);
  expect(saved.text).toContain('정보를 저장했습니다.');
  expect(saved.text).toContain('<option value="fr" selected lang="fr">Français</option>');
});
