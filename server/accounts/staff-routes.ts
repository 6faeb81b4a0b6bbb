import { Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { idParam } from '../http/forms';
import { actorOf, allow, requireUser } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { writeAudit } from '../audit/audit';
import { createInvitation, listOpenInvitations } from './invitations';
import { EmailSchema, listUsers, setUserDisabled } from './users';

const InviteForm = z.object({ email: EmailSchema, role: z.enum(['staff', 'sponsor']) });

/** Staff pages for people: invitations and accounts. */
export function staffAccountRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();

  async function renderInvitations(res: import('express').Response, status: number, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    const invitations = (await listOpenInvitations(db)).map((i) => ({ ...i, roleLabel: t(`accounts:roles.${i.role}`) }));
    const administrator = requireUser(res).administrator;
    res.status(status).render('accounts/invitations', { title: t('accounts:invitations.title'), noindex: true, invitations, administrator, ...extra });
  }

  router.get('/staff/invitations', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    await renderInvitations(res, 200, { notice: req.query.sent === '1' ? t('accounts:invitations.sent') : undefined });
  });

  router.post('/staff/invitations', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const user = requireUser(res);
    const form = InviteForm.safeParse(req.body ?? {});
    if (!form.success) {
      const errors: Record<string, string> = {};
      for (const issue of form.error.issues) errors[String(issue.path[0])] = t(`accounts:invitations.errors.${String(issue.path[0]) === 'role' ? 'role' : 'email'}`);
      const body = (req.body ?? {}) as Record<string, unknown>;
      return renderInvitations(res, 400, { errors, values: { email: typeof body.email === 'string' ? body.email : '' } });
    }
    // Four eyes: a staff member who could invite staff could make a second account and approve
    // their own match proposals with it. Only an administrator invites staff; a refusal is audited.
    if (form.data.role === 'staff' && !user.administrator) {
      await db.transaction().execute((trx) =>
        writeAudit(trx, { actor: actorOf(res, 'name'), action: 'invitation.refused', subject: `user:${user.id}`, details: { role: 'staff', reason: 'not_administrator' } }),
      );
      return renderInvitations(res, 403, { errors: { role: t('accounts:invitations.errors.administratorOnly') }, values: { email: form.data.email } });
    }
    await db.transaction().execute((trx) =>
      createInvitation(trx, {
        email: form.data.email,
        role: form.data.role,
        invitedBy: actorOf(res, 'name'),
        locale: res.locals.locale as Locale,
        publicUrl: config.publicUrl,
      }),
    );
    res.redirect(303, '/staff/invitations?sent=1');
  });

  router.get('/staff/users', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const me = requireUser(res);
    const users = (await listUsers(db)).map((u) => ({ ...u, roleLabel: t(`accounts:roles.${u.role}`), isMe: u.id === me.id, disabled: u.disabled_at !== null }));
    const notice = typeof req.query.done === 'string' && ['disabled', 'enabled', 'signInReset'].includes(req.query.done) ? t(`accounts:users.${req.query.done}`) : undefined;
    res.render('accounts/users', { title: t('accounts:users.title'), noindex: true, users, notice });
  });

  for (const action of ['disable', 'enable'] as const) {
    router.post(`/staff/users/:id/${action}`, allow.staff, async (req, res) => {
      const t = res.locals.t as TFunction;
      const me = requireUser(res);
      const id = idParam.safeParse(req.params.id);
      const result = id.success
        ? await db.transaction().execute((trx) =>
            setUserDisabled(trx, { userId: id.data, disabled: action === 'disable', actor: { userId: me.id, label: me.name, administrator: me.administrator } }),
          )
        : ({ ok: false, reason: 'not_found' } as const);
      if (!result.ok) {
        const status = result.reason === 'self' ? 409 : result.reason === 'administrator_only' ? 403 : 404;
        return res.status(status).render('errors/error', { status, title: t(`accounts:users.errors.${result.reason}`), message: t(`accounts:users.errors.${result.reason}`) });
      }
      res.redirect(303, `/staff/users?done=${action}d`);
    });
  }

  return router;
}
