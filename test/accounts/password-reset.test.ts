import request from 'supertest';
import { createStaffAccount } from '../../server/accounts/first-staff';
import { createMailTransport, deliverDueEmails, type MailTransport } from '../../server/notifications/dispatcher';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, signInAs, TEST_PASSWORD } from '../support/session';
import { linkIn, startSmtp, type TestSmtp } from '../support/smtp';

let t: TestApp;
let smtp: TestSmtp;
let transport: MailTransport;
const logger = createLogger({ logLevel: 'silent', env: 'test' });

beforeAll(async () => {
  smtp = await startSmtp();
  t = await createTestApp({ SMTP_URL: smtp.url });
  transport = createMailTransport(t.config, logger);
});
afterAll(async () => {
  await t.destroy();
  await smtp.close();
});

test('a reset link from the e-mail sets a new password once and signs out every other session', async () => {
  const sponsor = await signInAs(t, 'sponsor', { email: 'forgetful@example.org', name: 'Forgetful' });
  const visitor = await anonymous(t);
  const asked = await visitor.postForm('/forgot-password', { email: 'Forgetful@Example.org' });
  expect(asked.status).toBe(200);
  expect(asked.text).toContain('If an account uses that address');

  await deliverDueEmails(t.db, transport, logger);
  const mails = smtp.messages.filter((m) => m.to.includes('forgetful@example.org'));
  expect(mails).toHaveLength(1);
  expect(mails[0]!.subject).toBe('Reset your Haven password');
  expect(mails[0]!.text).toContain('Hello Forgetful,');
  const link = linkIn(mails[0]!);
  const token = link.searchParams.get('token')!;

  const form = await visitor.agent.get(link.pathname + link.search).expect(200);
  expect(form.text).toContain('forgetful@example.org');
  const short = await visitor.postForm('/reset-password', { token, password: 'short', confirm: 'short' });
  expect(short.status).toBe(400);
  expect(short.text).toContain('Please choose a password of 10 to 200 characters.');

  const done = await visitor.postForm('/reset-password', { token, password: 'my brand new password', confirm: 'my brand new password' });
  expect(done.status).toBe(303);
  expect(done.headers.location).toBe('/sign-in?notice=passwordSet');
  const notice = await visitor.agent.get(done.headers.location!);
  expect(notice.text).toContain('Your password is set');

  // The session that existed before the reset is over.
  const old = await sponsor.agent.get('/sign-in');
  expect(old.text).not.toContain('Sign out');
  // The link is used up.
  const reuse = await request(t.app).get(link.pathname + link.search).expect(400);
  expect(reuse.text).toContain('This password link has expired or has already been used.');
  const reusePost = await visitor.postForm('/reset-password', { token, password: 'attacker password', confirm: 'attacker password' });
  expect(reusePost.status).toBe(400);

  const signIn = await anonymous(t);
  expect((await signIn.postForm('/sign-in', { email: 'forgetful@example.org', password: TEST_PASSWORD })).status).toBe(400);
  expect((await signIn.postForm('/sign-in', { email: 'forgetful@example.org', password: 'my brand new password' })).status).toBe(303);
});

test('an unknown address gets exactly the same answer, and no e-mail', async () => {
  await signInAs(t, 'staff', { email: 'known.staff@example.org' });
  const visitor = await anonymous(t);
  const known = await visitor.postForm('/forgot-password', { email: 'known.staff@example.org' });
  const unknown = await visitor.postForm('/forgot-password', { email: 'nobody.here@example.org' });
  expect(unknown.status).toBe(known.status);
  const message = (html: string) => /<p role="status">([^<]*)<\/p>/.exec(html)?.[1];
  expect(message(unknown.text)).toBe(message(known.text));
  await deliverDueEmails(t.db, transport, logger);
  expect(smtp.messages.filter((m) => m.to.includes('nobody.here@example.org'))).toEqual([]);
  expect(smtp.messages.filter((m) => m.to.includes('known.staff@example.org'))).toHaveLength(1);
});

test('a disabled account gets no reset e-mail, and its open link stops working', async () => {
  const user = await signInAs(t, 'sponsor', { email: 'gone@example.org' });
  const visitor = await anonymous(t);
  await visitor.postForm('/forgot-password', { email: 'gone@example.org' });
  await deliverDueEmails(t.db, transport, logger);
  const link = linkIn(smtp.messages.find((m) => m.to.includes('gone@example.org'))!);
  await t.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', user.user.id).execute();
  await request(t.app).get(link.pathname + link.search).expect(400);
  const res = await visitor.postForm('/reset-password', { token: link.searchParams.get('token')!, password: 'a new password!', confirm: 'a new password!' });
  expect(res.status).toBe(400);
  await visitor.postForm('/forgot-password', { email: 'gone@example.org' }).then((r) => expect(r.status).toBe(200));
  await deliverDueEmails(t.db, transport, logger);
  expect(smtp.messages.filter((m) => m.to.includes('gone@example.org'))).toHaveLength(1);
});

test('an expired reset link is refused', async () => {
  await signInAs(t, 'staff', { email: 'slow@example.org' });
  const visitor = await anonymous(t);
  await visitor.postForm('/forgot-password', { email: 'slow@example.org' });
  await deliverDueEmails(t.db, transport, logger);
  const link = linkIn(smtp.messages.find((m) => m.to.includes('slow@example.org'))!);
  await t.db.updateTable('password_resets').set({ expires_at: new Date(Date.now() - 1000) }).execute();
  const res = await request(t.app).get(link.pathname + link.search).expect(400);
  expect(res.text).toContain('Ask for a new link');
});

test('a malformed e-mail is a 400 with a message', async () => {
  const visitor = await anonymous(t);
  const res = await visitor.postForm('/forgot-password', { email: 'nope' });
  expect(res.status).toBe(400);
  expect(res.text).toContain('Please enter a valid e-mail address.');
});

test('reset requests are limited per address, with a clear 429', async () => {
  await signInAs(t, 'sponsor', { email: 'spammed@example.org' });
  const visitor = await anonymous(t);
  for (let i = 0; i < 3; i++) expect((await visitor.postForm('/forgot-password', { email: 'spammed@example.org' })).status).toBe(200);
  const limited = await visitor.postForm('/forgot-password', { email: 'spammed@example.org' });
  expect(limited.status).toBe(429);
  expect(limited.headers['retry-after']).toMatch(/^\d+$/);
  expect(limited.text).toContain('Too many attempts');
  await deliverDueEmails(t.db, transport, logger);
  expect(smtp.messages.filter((m) => m.to.includes('spammed@example.org'))).toHaveLength(3);
});

test('create-staff makes a staff account whose one-time set-up link sets the first password (then a passkey may be enrolled)', async () => {
  const result = await t.db.transaction().execute((trx) => createStaffAccount(trx, { email: 'First@Example.org', name: 'First Staff', publicUrl: t.config.publicUrl }));
  expect(result.created).toBe(true);
  const link = new URL(result.link);
  expect(link.pathname).toBe('/enrol');
  const visitor = await anonymous(t);
  // No password yet: signing in is not possible.
  expect((await visitor.postForm('/sign-in', { email: 'first@example.org', password: 'anything at all' })).status).toBe(400);
  await visitor.agent.get(link.pathname + link.search).expect(200);
  const res = await visitor.postForm('/enrol', { token: link.searchParams.get('token')!, password: 'first staff password', confirm: 'first staff password' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/sign-in/verify');
  // Passkeys are optional in this configuration: the staff area opens, and the page offers to create one.
  expect((await visitor.agent.get('/staff')).status).toBe(200);
  expect((await visitor.agent.get('/account/security')).text).toContain('data-passkey="register"');
  // The link worked once.
  expect((await visitor.postForm('/enrol', { token: link.searchParams.get('token')!, password: 'another password!!', confirm: 'another password!!' })).status).toBe(400);
  const other = await anonymous(t);
  const signIn = await other.postForm('/sign-in', { email: 'first@example.org', password: 'first staff password' });
  expect(signIn.headers.location).toBe('/staff');
  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_label']).where('subject', '=', `user:${result.userId}`).orderBy('id').execute();
  expect(audit.map((a) => a.action)).toEqual(['user.created', 'user.enrolment_link_used']);
});
