import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { type Request, type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import type { AppDeps } from '../app-deps';
import { allow } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { createEnrolmentLink, LINK_HOURS } from './enrolment-links';
import { authenticationOptions, rememberChallenge, takeChallenge, verifyPasskeyAssertion } from './passkeys';
import { useRecoveryCode } from './recovery-codes';
import { homeFor, safeNext } from './routes';
import { enrollableFactors } from './second-factor';
import { field, pendingOf, type SecuritySteps, sessionOf } from './security-steps';
import { checkTotpCode } from './totp';

/**
 * The second step, after the password (/sign-in/verify): a passkey, an app code or a recovery
 * code, or a set-up link for a sponsor with none. allow.anyone: these work on the pending session a
 * password opened, which opens nothing else.
 */
export function secondStepRoutes(deps: AppDeps, steps: SecuritySteps): Router {
  const { db, config } = deps;
  const { rp, sealer, completeStep, needsScript, limited } = steps;
  const router = Router();

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

  return router;
}
