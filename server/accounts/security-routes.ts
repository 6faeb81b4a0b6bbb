import { type Request, type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import type { AppDeps } from '../app-deps';
import { idParam } from '../http/forms';
import { actorOf, allow, requireUser } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { isGroupMatched } from '../matching/matches';
import { queueEmail } from '../notifications/outbox';
import { enrolmentRoutes } from './enrolment-routes';
import { LINK_HOURS, resetSignIn } from './enrolment-links';
import { listPasskeys, removePasskey } from './passkeys';
import { hasRecoveryCodes, replaceRecoveryCodes, unusedRecoveryCodes } from './recovery-codes';
import { secondStepRoutes } from './second-step-routes';
import { securitySteps, sessionOf } from './security-steps';
import { hasTotp, removeTotp } from './totp';

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
 * Completing a step replaces the session (a new id) with one that records the step. The second step
 * lives in second-step-routes.ts, set-up links and enrolling in enrolment-routes.ts, what they share in
 * security-steps.ts; this file mounts them and serves a signed-in person's own security page.
 */
export function securityRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const steps = securitySteps(deps);
  router.use(secondStepRoutes(deps, steps));
  router.use(enrolmentRoutes(deps, steps));

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
          const reset = await resetSignIn(trx, { userId: id.data, actor: actorOf(res, 'name') });
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
