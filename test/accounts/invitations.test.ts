import request from 'supertest';
import { createInvitation } from '../../server/accounts/invitations';
import { createMailTransport, deliverDueEmails, type MailTransport } from '../../server/notifications/dispatcher';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, signInAs, type SignedIn } from '../support/session';
import { linkIn, startSmtp, type TestSmtp } from '../support/smtp';

let t: TestApp;
let smtp: TestSmtp;
let transport: MailTransport;
let staff: SignedIn;
const logger = createLogger({ logLevel: 'silent', env: 'test' });

beforeAll(async () => {
  smtp = await startSmtp();
  t = await createTestApp({ SMTP_URL: smtp.url });
  transport = createMailTransport(t.config, logger);
  staff = await signInAs(t, 'staff', { name: 'Hana Staff', administrator: true });
});
afterAll(async () => {
  await t.destroy();
  await smtp.close();
});

/** Delivers the outbox over SMTP and returns the one message sent to `to`. */
async function mailTo(to: string) {
  await deliverDueEmails(t.db, transport, logger);
  const mails = smtp.messages.filter((m) => m.to.includes(to));
  expect(mails).toHaveLength(1);
  return mails[0]!;
}

function sessionCookieSet(res: request.Response): boolean {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => c.startsWith('haven_session=') && !c.startsWith('haven_session=;'));
}

test('staff invite a sponsor; the e-mailed link creates the account once, and signs them in', async () => {
  const sent = await staff.postForm('/staff/invitations', { email: 'New.Sponsor@Example.org', role: 'sponsor' });
  expect(sent.status).toBe(303);
  expect(sent.headers.location).toBe('/staff/invitations?sent=1');
  const page = await staff.agent.get('/staff/invitations?sent=1').expect(200);
  expect(page.text).toContain('Invitation sent');
  expect(page.text).toContain('new.sponsor@example.org');

  const mail = await mailTo('new.sponsor@example.org');
  expect(mail.subject).toBe('Your invitation to Haven, by HanVoice');
  expect(mail.text).toContain('You are invited to Haven');
  expect(mail.text).toContain('The invitation comes from “Hana Staff”.');
  expect(mail.text).toContain('for 7 days');
  const link = linkIn(mail);
  expect(link.origin).toBe('http://haven.test');
  expect(link.pathname).toBe('/accept-invitation');
  // Only the hash is stored.
  const stored = await t.db.selectFrom('invitations').select('token_hash').execute();
  expect(JSON.stringify(stored)).not.toContain(link.searchParams.get('token'));

  const visitor = await anonymous(t);
  const form = await visitor.agent.get(link.pathname + link.search).expect(200);
  expect(form.text).toContain('new.sponsor@example.org');

  // A bad form changes nothing.
  const bad = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: '', password: 'short', confirm: 'short' });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('Please enter your name');
  expect(bad.text).toContain('Please choose a password of 10 to 200 characters.');
  const mismatch = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'Ana', password: 'long enough pass', confirm: 'long enough pasS' });
  expect(mismatch.status).toBe(400);
  expect(mismatch.text).toContain('The two passwords are not the same.');
  expect(await t.db.selectFrom('users').select('id').where('email', '=', 'new.sponsor@example.org').executeTakeFirst()).toBeUndefined();

  const accepted = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'Ana Sponsor', password: 'a long new password', confirm: 'a long new password' });
  expect(accepted.status).toBe(303);
  expect(sessionCookieSet(accepted)).toBe(true);
  const user = await t.db.selectFrom('users').select(['role', 'name', 'password_hash']).where('email', '=', 'new.sponsor@example.org').executeTakeFirstOrThrow();
  expect(user).toMatchObject({ role: 'sponsor', name: 'Ana Sponsor' });
  expect(user.password_hash).toMatch(/^\$argon2id\$/);
  const signedIn = await visitor.agent.get('/sign-in').expect(200);
  expect(signedIn.text).toContain('You are signed in as Ana Sponsor');

  // The link works once.
  const again = await request(t.app).get(link.pathname + link.search).expect(400);
  expect(again.text).toContain('This invitation has expired or has already been used');
  const other = await anonymous(t);
  const reuse = await other.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'Mallory', password: 'another password', confirm: 'another password' });
  expect(reuse.status).toBe(400);
  expect(sessionCookieSet(reuse)).toBe(false);
  expect((await t.db.selectFrom('users').select('name').where('email', '=', 'new.sponsor@example.org').executeTakeFirstOrThrow()).name).toBe('Ana Sponsor');

  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_label']).where('action', 'like', 'invitation.%').orderBy('id').execute();
  expect(audit).toEqual([
    { action: 'invitation.created', actor_label: 'Hana Staff' },
    { action: 'invitation.accepted', actor_label: 'Ana Sponsor' },
  ]);
});

test('an invited staff member lands in the staff area; the e-mail is in the language of the inviting page', async () => {
  await staff.agent.get('/staff/invitations?lang=fr').expect(200);
  await staff.postForm('/staff/invitations', { email: 'colleague@example.org', role: 'staff' }).then((r) => expect(r.status).toBe(303));
  const mail = await mailTo('colleague@example.org');
  expect(mail.subject).toBe('Votre invitation à Haven, de HanVoice');
  expect(mail.text).toContain('Vous êtes invité à rejoindre le personnel');
  expect(mail.text).toContain('L’invitation vient de «\u00a0Hana Staff\u00a0»');
  const link = linkIn(mail);
  const visitor = await anonymous(t);
  const res = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'Colleague', password: 'staff password 1', confirm: 'staff password 1' });
  expect(res.headers.location).toBe('/staff');
  await visitor.agent.get('/staff').expect(200);
  await staff.agent.get('/staff?lang=en').expect(200);
});

test('an expired invitation, a malformed token and a forged token are refused with a message', async () => {
  await staff.postForm('/staff/invitations', { email: 'late@example.org', role: 'sponsor' });
  const link = linkIn(await mailTo('late@example.org'));
  await t.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('email', '=', 'late@example.org').execute();
  for (const path of [link.pathname + link.search, '/accept-invitation?token=nonsense', `/accept-invitation?token=${'x'.repeat(43)}`, '/accept-invitation', '/accept-invitation?token[]=1']) {
    const res = await request(t.app).get(path);
    expect(res.status).toBe(400);
    expect(res.text).toContain('This invitation has expired or has already been used');
  }
  const visitor = await anonymous(t);
  const post = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'Late', password: 'late password 1', confirm: 'late password 1' });
  expect(post.status).toBe(400);
  expect(await t.db.selectFrom('users').select('id').where('email', '=', 'late@example.org').executeTakeFirst()).toBeUndefined();
});

test('only an administrator invites staff: another staff member is refused, audited, and nothing is sent (four eyes)', async () => {
  const colleague = await signInAs(t, 'staff', { name: 'Plain Staff' });
  const page = await colleague.agent.get('/staff/invitations').expect(200);
  expect(page.text).not.toContain('value="staff"');
  expect(page.text).toContain('Staff are invited by an administrator.');
  const before = await t.db.selectFrom('outbox').select('id').execute();
  const res = await colleague.postForm('/staff/invitations', { email: 'sock.puppet@example.org', role: 'staff' });
  expect(res.status).toBe(403);
  expect(res.text).toContain('Only an administrator can invite staff');
  expect(await t.db.selectFrom('outbox').select('id').execute()).toHaveLength(before.length);
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'sock.puppet@example.org').execute()).toEqual([]);
  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id']).where('action', '=', 'invitation.refused').execute();
  expect(audit).toEqual([{ action: 'invitation.refused', actor_user_id: colleague.user.id }]);
  // A sponsor invitation is any staff member's to send.
  expect((await colleague.postForm('/staff/invitations', { email: 'volunteer@example.org', role: 'sponsor' })).status).toBe(303);
});

test('one address receives at most 3 invitations a day, whoever sends them', async () => {
  for (let i = 0; i < 3; i++) expect((await staff.postForm('/staff/invitations', { email: 'popular@example.org', role: 'sponsor' })).status).toBe(303);
  const fourth = await staff.postForm('/staff/invitations', { email: 'popular@example.org', role: 'sponsor' });
  expect(fourth.status).toBe(429);
  expect(fourth.text).toContain('Too many invitations for now');
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'popular@example.org').execute()).toHaveLength(3);
});

test('a bad invitation form re-renders with messages and sends nothing', async () => {
  const before = await t.db.selectFrom('outbox').select('id').execute();
  const res = await staff.postForm('/staff/invitations', { email: 'not an address', role: 'boss' });
  expect(res.status).toBe(400);
  expect(res.text).toContain('Please enter a valid e-mail address.');
  expect(res.text).toContain('Please choose staff or sponsor.');
  expect(await t.db.selectFrom('outbox').select('id').execute()).toHaveLength(before.length);
});

test('an invitation to an address that already has an account of another role is refused on accepting', async () => {
  await staff.postForm('/staff/invitations', { email: staff.user.email, role: 'sponsor' });
  const link = linkIn(await mailTo(staff.user.email));
  const visitor = await anonymous(t);
  const res = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'X', password: 'some password 1', confirm: 'some password 1' });
  expect(res.status).toBe(409);
  expect(res.text).toContain('already has a Haven account of another kind');
  expect((await t.db.selectFrom('users').select('role').where('id', '=', staff.user.id).executeTakeFirstOrThrow()).role).toBe('staff');
});

test("createInvitation joins the caller's transaction: a rollback leaves no invitation and no e-mail", async () => {
  const before = await t.db.selectFrom('outbox').select('id').execute();
  await expect(
    t.db.transaction().execute(async (trx) => {
      await createInvitation(trx, { email: 'rollback@example.org', role: 'sponsor', invitedBy: { userId: staff.user.id, label: 'Hana Staff' }, groupId: 7, locale: 'en', publicUrl: 'http://haven.test' });
      throw new Error('the group change failed');
    }),
  ).rejects.toThrow('the group change failed');
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'rollback@example.org').execute()).toEqual([]);
  expect(await t.db.selectFrom('outbox').select('id').execute()).toHaveLength(before.length);
});

test('a sponsor cannot invite anyone', async () => {
  const sponsor = await signInAs(t, 'sponsor');
  const res = await sponsor.postForm('/staff/invitations', { email: 'x@example.org', role: 'staff' });
  expect(res.status).toBe(403);
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'x@example.org').execute()).toEqual([]);
});

test('the outbox retries with backoff when the SMTP server refuses a message once', async () => {
  smtp.rejectNext(1);
  await staff.postForm('/staff/invitations', { email: 'retry@example.org', role: 'sponsor' });
  await deliverDueEmails(t.db, transport, logger);
  expect(smtp.messages.filter((m) => m.to.includes('retry@example.org'))).toEqual([]);
  const row = await t.db
    .selectFrom('outbox')
    .select(['id', 'attempts', 'sent_at', 'failed_at', 'last_error', 'next_attempt_at'])
    .where('sent_at', 'is', null)
    .executeTakeFirstOrThrow();
  expect(row.attempts).toBe(1);
  expect(row.failed_at).toBeNull();
  expect(row.last_error).toMatch(/451|Try again later/);
  // First backoff: 30 seconds.
  const delaySeconds = (row.next_attempt_at.getTime() - Date.now()) / 1000;
  expect(delaySeconds).toBeGreaterThan(20);
  expect(delaySeconds).toBeLessThanOrEqual(31);
  // Not due yet: nothing is sent.
  expect(await deliverDueEmails(t.db, transport, logger)).toBe(0);

  // Time passes.
  await t.db.updateTable('outbox').set({ next_attempt_at: new Date(Date.now() - 1000) }).where('id', '=', row.id).execute();
  const mail = await mailTo('retry@example.org');
  expect(linkIn(mail).pathname).toBe('/accept-invitation');
  const after = await t.db.selectFrom('outbox').select(['attempts', 'sent_at', 'last_error']).where('id', '=', row.id).executeTakeFirstOrThrow();
  expect(after.attempts).toBe(2);
  expect(after.sent_at).not.toBeNull();
  expect(after.last_error).toBeNull();
});
