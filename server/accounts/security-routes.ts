import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { type Request, type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import type { SecondFactor, UserRole } from '../db/schema';
import { idParam } from '../http/forms';
import { allow, requireUser } from '../http/policy';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import { noStore } from '../http/security-headers';
import type { Locale } from '../i18n/i18n';
import { isGroupMatched } from '../matching/matches';
import { queueEmail } from '../notifications/outbox';
import { createEnrolmentLink, ENROL_MINUTES, findOpenEnrolmentLink, LINK_HOURS, resetSignIn, useEnrolmentLink } from './enrolment-links';
import { authenticationOptions, listPasskeys, registerPasskey, registrationOptions, relyingParty, removePasskey, rememberChallenge, takeChallenge, verifyPasskeyAssertion } from './passkeys';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords';
import { hasRecoveryCodes, replaceRecoveryCodes, unusedRecoveryCodes, useRecoveryCode } from './recovery-codes';
import { homeFor, safeNext } from './routes';
import { enrollableFactors, type PendingSignIn } from './second-factor';
import { createSession, endSession, lookUpSession, SESSION_COOKIE, sessionCookieOptions, type SessionState, sessionToken } from './sessions';
import { checkTotpCode, hasTotp, pendingTotpSetup, removeTotp, startTotpSetup, totpSealer } from './totp';

/**
 * The second sign-in step and what people enrol for it (second-factor.ts says who needs what):
 *
 *   /sign-in/verify        after the password: a passkey, an app code or a recovery code
 *   /enrol?token=…         a set-up link (create-staff, a staff reset, a sponsor's e-mailed link)
 *   /account/security      passkeys, authenticator app, recovery codes of a signed-in person
 *   /account/passkeys…     WebAuthn ceremonies (JSON, from /static/passkeys.js)
 *   /account/totp          authenticator-app set-up (a QR code)
 *   /staff/users/:id/reset-sign-in   another staff member's reset
 *
 * Completing a step replaces the session (a new id) with one that records the step. The sign-in
 * steps are allow.anyone: they work on the pending session a password opened, which opens nothing else.
 */
export const SECOND_STEP_LIMITS = {
  perAccount: { name: 'second-step:account', max: 10, windowSeconds: 15 * 60 },
  perIp: { name: 'second-step:ip', max: 30, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimit>;

type Account = { id: number; email: string; name: string; role: UserRole; pending: PendingSignIn | undefined };

function pendingOf(res: Response): PendingSignIn | undefined {
  return res.locals.pendingSignIn as PendingSignIn | undefined;
}

function sessionOf(res: Response): SessionState | undefined {
  return res.locals.session as SessionState | undefined;
}

/** The person behind this browser's session, signed in or half-way (after the password). */
function accountOf(res: Response): Account | undefined {
  const pending = pendingOf(res);
  if (pending) return { id: pending.userId, email: pending.email, name: pending.name, role: pending.role, pending };
  const user = res.locals.user as { id: number; email: string; name: string; role: UserRole } | undefined;
  return user && { id: user.id, email: user.email, name: user.name, role: user.role, pending: undefined };
}

function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

const PasskeyName = z.string().trim().min(1).max(60).catch('Passkey');

export function securityRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const rp = relyingParty(config);
  const sealer = totpSealer(config.sessionSecret);
  const cookieOptions = sessionCookieOptions(config);

  /** Replaces this browser's session with one that passed `factor` (a new session id); returns where the person lands. */
  async function completeStep(req: Request, res: Response, userId: number, factor: SecondFactor): Promise<string> {
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    const token = await createSession(db, userId, { secondFactor: factor, locale: res.locals.locale as Locale });
    res.cookie(SESSION_COOKIE, token, cookieOptions);
    const session = await lookUpSession(db, token, { staffPasskeys: config.staffPasskeys });
    return session.user ? homeFor(session.user) : '/';
  }

  /** The WebAuthn routes speak JSON to passkeys.js; a plain form post means the script did not run. */
  function needsScript(req: Request, res: Response): boolean {
    if (req.is('application/json')) return false;
    const t = res.locals.t as TFunction;
    res.status(400).render('accounts/message', { title: t('accounts:security.title'), noindex: true, message: t('accounts:security.errors.needsScript') });
    return true;
  }

  async function limited(req: Request, userId: number): Promise<number | undefined> {
    for (const [limit, subject] of [
      [SECOND_STEP_LIMITS.perAccount, `user:${userId}`],
      [SECOND_STEP_LIMITS.perIp, req.ip ?? 'unknown'],
    ] as const) {
      const outcome = await consumeRateLimit(db, limit, subject);
      if (outcome.limited) return outcome.retryAfterSeconds;
    }
    return undefined;
  }

  async function notifyFactorAdded(account: Account, kind: 'passkey' | 'totp', locale: Locale) {
    await db.transaction().execute((trx) =>
      queueEmail(trx, { to: account.email, template: 'accounts/factor-added', locale, data: { name: account.name, kind, link: `${config.publicUrl}/account/security` } }),
    );
  }

  // ---- The second step, after the password ----------------------------------------------------

  async function renderVerify(req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    const pending = pendingOf(res)!;
    const mayEnrol = sessionOf(res)?.mayEnrol ?? false;
    const enrollable = enrollableFactors(pending.role);
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('accounts/verify', {
      title: t('accounts:verify.title'),
      noindex: true,
      account: pending,
      next: safeNext(req.body?.next ?? req.query.next),
      usePasskey: pending.factors.passkey,
      useTotp: pending.role === 'sponsor' && pending.factors.totp,
      mayEnrol,
      enrolPasskey: mayEnrol && enrollable.includes('passkey'),
      enrolTotp: mayEnrol && enrollable.includes('totp') && !pending.factors.totp,
      stuck: !mayEnrol && !pending.factors.passkey && !pending.factors.totp,
      canRecover: pending.factors.passkey || pending.factors.totp,
      staff: pending.role === 'staff',
      passkeyScripts: true,
      ...extra,
    });
  }

  router.get('/sign-in/verify', allow.anyone, async (req, res) => {
    if (!pendingOf(res)) return res.redirect(303, res.locals.user ? homeFor(res.locals.user) : '/sign-in');
    await renderVerify(req, res, 200);
  });

  router.post('/sign-in/passkey/options', allow.anyone, async (req, res) => {
    if (needsScript(req, res)) return;
    const pending = pendingOf(res);
    const session = sessionOf(res);
    if (!pending || !session || !pending.factors.passkey) return res.status(409).json({ error: (res.locals.t as TFunction)('accounts:verify.errors.noPasskey') });
    const options = await authenticationOptions(db, rp, pending.userId);
    await rememberChallenge(db, session.tokenHash, options.challenge);
    res.setHeader('Cache-Control', 'no-store');
    res.json(options);
  });

  router.post('/sign-in/passkey', allow.anyone, async (req, res) => {
    if (needsScript(req, res)) return;
    const t = res.locals.t as TFunction;
    const pending = pendingOf(res);
    const session = sessionOf(res);
    if (!pending || !session) return res.status(409).json({ error: t('accounts:verify.errors.expired') });
    const retryAfter = await limited(req, pending.userId);
    if (retryAfter) return res.status(429).json({ error: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
    const challenge = await takeChallenge(db, session.tokenHash);
    const response = (req.body as { response?: AuthenticationResponseJSON } | undefined)?.response;
    const ok = challenge !== undefined && response !== undefined && (await verifyPasskeyAssertion(db, rp, { userId: pending.userId, expectedChallenge: challenge, response }));
    if (!ok) return res.status(400).json({ error: t('accounts:verify.errors.passkey') });
    const home = await completeStep(req, res, pending.userId, 'passkey');
    res.json({ redirect: safeNext((req.body as { next?: unknown }).next) ?? home });
  });

  router.post('/sign-in/totp', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const pending = pendingOf(res);
    if (!pending) return res.redirect(303, '/sign-in');
    const retryAfter = await limited(req, pending.userId);
    if (retryAfter) return renderVerify(req, res, 429, { totpError: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
    if (pending.role !== 'sponsor' || !(await checkTotpCode(db, sealer, pending.userId, field(req.body, 'code'), 'confirmed'))) {
      return renderVerify(req, res, 400, { totpError: t('accounts:verify.errors.totp') });
    }
    const home = await completeStep(req, res, pending.userId, 'totp');
    res.redirect(303, safeNext(req.body?.next) ?? home);
  });

  router.post('/sign-in/recovery', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const pending = pendingOf(res);
    if (!pending) return res.redirect(303, '/sign-in');
    const retryAfter = await limited(req, pending.userId);
    if (retryAfter) return renderVerify(req, res, 429, { recoveryError: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
    if (!(await useRecoveryCode(db, pending.userId, field(req.body, 'code')))) return renderVerify(req, res, 400, { recoveryError: t('accounts:verify.errors.recovery') });
    await db.transaction().execute((trx) =>
      queueEmail(trx, { to: pending.email, template: 'accounts/recovery-code-used', locale: res.locals.locale as Locale, data: { name: pending.name, link: `${config.publicUrl}/account/security` } }),
    );
    await completeStep(req, res, pending.userId, 'recovery_code');
    res.redirect(303, '/account/security?notice=recovered');
  });

  // A sponsor whose group was matched and who has no factor yet: a set-up link to their own address.
  router.post('/sign-in/setup-link', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const pending = pendingOf(res);
    if (!pending || pending.role !== 'sponsor' || pending.factors.passkey || pending.factors.totp) return res.redirect(303, '/sign-in');
    const retryAfter = await limited(req, pending.userId);
    if (retryAfter) return renderVerify(req, res, 429, { linkError: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
    await db.transaction().execute(async (trx) => {
      const token = await createEnrolmentLink(trx, { userId: pending.userId, kind: 'self', issuedBy: null });
      await queueEmail(trx, {
        to: pending.email,
        template: 'accounts/setup-link',
        locale: res.locals.locale as Locale,
        data: { name: pending.name, link: `${config.publicUrl}/enrol?token=${token}`, minutes: LINK_HOURS.self * 60 },
      });
    });
    res.render('accounts/message', { title: t('accounts:verify.title'), noindex: true, message: t('accounts:verify.linkSent', { email: pending.email }) });
  });

  // ---- Set-up links ----------------------------------------------------------------------------

  function renderEnrolLink(res: Response, status: number, link: { kind: string; email: string }, token: string, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('accounts/enrol-link', { title: t('accounts:enrol.title'), noindex: true, token, email: link.email, choosePassword: link.kind !== 'self', ...extra });
  }

  function renderLinkExpired(res: Response) {
    const t = res.locals.t as TFunction;
    res.status(400).render('accounts/message', { title: t('accounts:linkProblem'), noindex: true, message: t('accounts:enrol.expired') });
  }

  router.get('/enrol', allow.anyone, noStore, async (req, res) => {
    const link = await findOpenEnrolmentLink(db, req.query.token);
    if (!link) return renderLinkExpired(res);
    renderEnrolLink(res, 200, link, String(req.query.token));
  });

  router.post('/enrol', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    const token = field(req.body, 'token');
    const link = await findOpenEnrolmentLink(db, token);
    if (!link) return renderLinkExpired(res);
    const password = field(req.body, 'password');
    let newHash: string | undefined;
    if (link.kind === 'self') {
      const retryAfter = await limited(req, link.userId);
      if (retryAfter) return renderEnrolLink(res, 429, link, token, { error: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
      if (!(await verifyPassword(link.passwordHash ?? undefined, password))) return renderEnrolLink(res, 400, link, token, { errors: { current: t('accounts:enrol.wrongPassword') } });
    } else {
      const errors: Record<string, string> = {};
      if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) errors.password = t('accounts:errors.passwordLength', { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
      else if (password !== field(req.body, 'confirm')) errors.confirm = t('accounts:errors.passwordMismatch');
      if (Object.keys(errors).length) return renderEnrolLink(res, 400, link, token, { errors });
      newHash = await hashPassword(password);
    }
    const used = await db.transaction().execute((trx) => useEnrolmentLink(trx, token, newHash));
    if (!used) return renderLinkExpired(res);
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    res.cookie(SESSION_COOKIE, await createSession(db, used.userId, { enrolMinutes: ENROL_MINUTES, locale: res.locals.locale as Locale }), cookieOptions);
    res.redirect(303, '/sign-in/verify');
  });

  // ---- Enrolling a passkey or an app (a session that may: see SessionState.mayEnrol) ------------

  function enrollingAccount(res: Response): Account | undefined {
    const account = accountOf(res);
    return account && sessionOf(res)?.mayEnrol ? account : undefined;
  }

  router.post('/account/passkeys/options', allow.anyone, async (req, res) => {
    if (needsScript(req, res)) return;
    const account = enrollingAccount(res);
    if (!account) return res.status(403).json({ error: (res.locals.t as TFunction)('accounts:security.errors.mayNotEnrol') });
    const options = await registrationOptions(db, rp, account);
    await rememberChallenge(db, sessionOf(res)!.tokenHash, options.challenge);
    res.setHeader('Cache-Control', 'no-store');
    res.json(options);
  });

  router.post('/account/passkeys', allow.anyone, async (req, res) => {
    if (needsScript(req, res)) return;
    const t = res.locals.t as TFunction;
    const account = enrollingAccount(res);
    if (!account) return res.status(403).json({ error: t('accounts:security.errors.mayNotEnrol') });
    const body = (req.body ?? {}) as { response?: RegistrationResponseJSON; name?: unknown };
    const challenge = await takeChallenge(db, sessionOf(res)!.tokenHash);
    if (!challenge || !body.response || typeof body.response !== 'object') return res.status(400).json({ error: t('accounts:security.errors.passkey') });
    const name = PasskeyName.parse(body.name);
    const outcome = await db.transaction().execute((trx) => registerPasskey(trx, rp, { userId: account.id, expectedChallenge: challenge, response: body.response!, name }));
    if (!outcome.ok) return res.status(400).json({ error: t(`accounts:security.errors.${outcome.reason === 'already_registered' ? 'passkeyTwice' : 'passkey'}`) });
    await notifyFactorAdded(account, 'passkey', res.locals.locale as Locale);
    // The ceremony verified the person on the device: this session has now used a passkey.
    await completeStep(req, res, account.id, 'passkey');
    res.json({ redirect: (await hasRecoveryCodes(db, account.id)) ? '/account/security?notice=passkeyAdded' : '/account/recovery-codes' });
  });

  async function renderTotpSetup(res: Response, status: number, account: Account, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    let setup = await pendingTotpSetup(db, sealer, account);
    if (!setup) setup = await db.transaction().execute((trx) => startTotpSetup(trx, sealer, account));
    const qr = await QRCode.toString(setup.uri, { type: 'svg', margin: 2, width: 220 });
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('accounts/totp-setup', {
      title: t('accounts:totp.title'),
      noindex: true,
      qrSrc: `data:image/svg+xml;base64,${Buffer.from(qr).toString('base64')}`,
      secretGroups: setup.secret.match(/.{1,4}/g)!.join(' '),
      ...extra,
    });
  }

  router.get('/account/totp', allow.anyone, async (_req, res) => {
    const account = enrollingAccount(res);
    if (!account || account.role !== 'sponsor') return res.redirect(303, account ? '/account/security' : '/sign-in');
    if (await hasTotp(db, account.id)) return res.redirect(303, '/account/security');
    await renderTotpSetup(res, 200, account);
  });

  router.post('/account/totp', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const account = enrollingAccount(res);
    if (!account || account.role !== 'sponsor') return res.redirect(303, account ? '/account/security' : '/sign-in');
    const retryAfter = await limited(req, account.id);
    if (retryAfter) return renderTotpSetup(res, 429, account, { error: t('accounts:rateLimited', { minutes: Math.ceil(retryAfter / 60) }) });
    if (!(await checkTotpCode(db, sealer, account.id, field(req.body, 'code'), 'setup'))) return renderTotpSetup(res, 400, account, { error: t('accounts:totp.wrongCode') });
    await notifyFactorAdded(account, 'totp', res.locals.locale as Locale);
    await completeStep(req, res, account.id, 'totp');
    res.redirect(303, (await hasRecoveryCodes(db, account.id)) ? '/account/security?notice=totpAdded' : '/account/recovery-codes');
  });

  // ---- A signed-in person's sign-in security ---------------------------------------------------

  const NOTICES = new Set(['recovered', 'passkeyAdded', 'totpAdded', 'passkeyRemoved', 'totpRemoved']);

  async function renderSecurity(req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    const session = sessionOf(res);
    const [passkeys, codesLeft, totp] = await Promise.all([listPasskeys(db, user.id), unusedRecoveryCodes(db, user.id), hasTotp(db, user.id)]);
    const notice = typeof req.query.notice === 'string' && NOTICES.has(req.query.notice) ? t(`accounts:security.notices.${req.query.notice}`, { count: codesLeft }) : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('accounts/security', {
      title: t('accounts:security.title'),
      noindex: true,
      passkeys,
      codesLeft,
      hasFactor: passkeys.length > 0 || totp,
      sponsor: user.role === 'sponsor',
      totp,
      mayEnrol: session?.mayEnrol ?? false,
      usedFactor: session?.secondFactor !== null && session?.secondFactor !== undefined,
      required: user.role === 'staff' && config.staffPasskeys === 'required',
      notice,
      passkeyScripts: true,
      ...extra,
    });
  }

  router.get('/account/security', allow.signedIn, async (req, res) => {
    await renderSecurity(req, res, 200);
  });

  /** Removing a factor needs a session that used one, and may not leave an account that needs one without any. */
  async function mayRemove(res: Response, remaining: { passkeys: number; totp: boolean }): Promise<string | undefined> {
    const user = requireUser(res);
    if (!sessionOf(res)?.secondFactor) return 'accounts:security.errors.useFactorFirst';
    const needs = user.role === 'staff' ? config.staffPasskeys === 'required' : user.groupId !== null && (await isGroupMatched(db, user.groupId));
    const left = remaining.passkeys + (remaining.totp ? 1 : 0);
    if (needs && left === 0) return 'accounts:security.errors.lastFactor';
    return undefined;
  }

  router.post('/account/passkeys/:id/remove', allow.signedIn, async (req, res) => {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    const id = idParam.safeParse(req.params.id);
    const passkeys = await listPasskeys(db, user.id);
    if (!id.success || !passkeys.some((p) => p.id === id.data)) return renderSecurity(req, res, 404, { error: t('accounts:security.errors.noSuchPasskey') });
    const refusal = await mayRemove(res, { passkeys: passkeys.length - 1, totp: await hasTotp(db, user.id) });
    if (refusal) return renderSecurity(req, res, 409, { error: t(refusal) });
    await db.transaction().execute((trx) => removePasskey(trx, user.id, id.data));
    res.redirect(303, '/account/security?notice=passkeyRemoved');
  });

  router.post('/account/totp/remove', allow.signedIn, async (req, res) => {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    const refusal = await mayRemove(res, { passkeys: (await listPasskeys(db, user.id)).length, totp: false });
    if (refusal) return renderSecurity(req, res, 409, { error: t(refusal) });
    await removeTotp(db, user.id);
    res.redirect(303, '/account/security?notice=totpRemoved');
  });

  // Recovery codes: made (and shown, once) right after the first enrolment; a new set on request.
  router.get('/account/recovery-codes', allow.signedIn, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    res.setHeader('Cache-Control', 'no-store');
    const firstTime = sessionOf(res)?.secondFactor && !(await hasRecoveryCodes(db, user.id));
    const codes = firstTime ? await db.transaction().execute((trx) => replaceRecoveryCodes(trx, user.id)) : undefined;
    res.render('accounts/recovery-codes', { title: t('accounts:recovery.title'), noindex: true, codes, codesLeft: codes ? codes.length : await unusedRecoveryCodes(db, user.id), usedFactor: Boolean(sessionOf(res)?.secondFactor) });
  });

  router.post('/account/recovery-codes', allow.signedIn, async (req, res) => {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    if (!sessionOf(res)?.secondFactor) return renderSecurity(req, res, 409, { error: t('accounts:security.errors.useFactorFirst') });
    const codes = await db.transaction().execute((trx) => replaceRecoveryCodes(trx, user.id));
    res.setHeader('Cache-Control', 'no-store');
    res.render('accounts/recovery-codes', { title: t('accounts:recovery.title'), noindex: true, codes, codesLeft: codes.length, usedFactor: true });
  });

  // ---- Another staff member's reset --------------------------------------------------------------

  router.post('/staff/users/:id/reset-sign-in', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const me = requireUser(res);
    const id = idParam.safeParse(req.params.id);
    const result = id.success
      ? await db.transaction().execute(async (trx) => {
          const reset = await resetSignIn(trx, { userId: id.data, actor: { userId: me.id, label: me.name } });
          if (reset.ok) {
            await queueEmail(trx, {
              to: reset.email,
              template: 'accounts/sign-in-reset',
              locale: res.locals.locale as Locale,
              data: { name: reset.name, by: me.name, link: `${config.publicUrl}/enrol?token=${reset.token}`, days: LINK_HOURS.staff_reset / 24 },
            });
          }
          return reset;
        })
      : ({ ok: false, reason: 'not_found' } as const);
    if (!result.ok) {
      const status = result.reason === 'self' ? 409 : 404;
      return res.status(status).render('errors/error', { status, title: t(`accounts:users.errors.reset_${result.reason}`), message: t(`accounts:users.errors.reset_${result.reason}`) });
    }
    res.redirect(303, '/staff/users?done=signInReset');
  });

  return router;
}
