import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { allow } from '../http/policy';
import { noStore } from '../http/security-headers';
import type { Locale } from '../i18n/i18n';
import { ENROL_MINUTES, findOpenEnrolmentLink, useEnrolmentLink } from './enrolment-links';
import { registerPasskey, registrationOptions, rememberChallenge, takeChallenge } from './passkeys';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords';
import { hasRecoveryCodes } from './recovery-codes';
import { type Account, accountOf, field, type SecuritySteps, sessionOf } from './security-steps';
import { createSession, endSession, SESSION_COOKIE, sessionToken } from './sessions';
import { checkTotpCode, hasTotp, pendingTotpSetup, startTotpSetup } from './totp';

const PasskeyName = z.string().trim().min(1).max(60).catch('Passkey');

/**
 * Enrolling a second factor: a set-up link (/enrol?token=…: create-staff, a staff reset, a
 * sponsor's e-mailed link) sets the password and opens a session that may enrol, then a passkey
 * (WebAuthn ceremonies, JSON from /static/passkeys.js) or an authenticator app (a QR code).
 */
export function enrolmentRoutes(deps: AppDeps, steps: SecuritySteps): Router {
  const { db } = deps;
  const { rp, sealer, cookieOptions, completeStep, needsScript, limited, notifyFactorAdded } = steps;
  const router = Router();

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

  return router;
}
