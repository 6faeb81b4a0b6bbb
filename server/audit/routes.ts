import { Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import type { Db } from '../db/database';
import { allow } from '../http/policy';
import { INTL_LOCALE, type Locale } from '../i18n/i18n';
import { listAudit } from './audit';

const optionalText = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const optionalId = z
  .string()
  .trim()
  .regex(/^\d{0,15}$/)
  .optional()
  .transform((v) => (v ? Number(v) : undefined));

const AuditQuery = z.object({ action: optionalText, subject: optionalText, actor: optionalId, before: optionalId });

/** GET /staff/audit: who did what to what, newest first, filtered, keyset-paged. */
export function auditRoutes(db: Db, timeZone: string): Router {
  const router = Router();

  router.get('/staff/audit', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const locale = res.locals.locale as Locale;
    const parsed = AuditQuery.safeParse(req.query);
    const title = t('audit:title');
    if (!parsed.success) {
      return res.status(400).render('audit/list', { title, noindex: true, rows: [], filters: {}, error: t('audit:badFilter') });
    }
    const filters = parsed.data;
    const page = await listAudit(db, { action: filters.action, subject: filters.subject, actorUserId: filters.actor, before: filters.before });
    const when = new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'medium', timeStyle: 'short', timeZone });
    const rows = page.rows.map((row) => ({
      id: row.id,
      at: when.format(row.at),
      atIso: row.at.toISOString(),
      actor: row.actor_label,
      actorUserId: row.actor_user_id,
      action: row.action,
      subject: row.subject,
      actorLink: row.actor_user_id === null ? undefined : `/staff/audit?actor=${row.actor_user_id}`,
      actionLink: `/staff/audit?${new URLSearchParams({ action: row.action }).toString()}`,
      subjectLink: `/staff/audit?${new URLSearchParams({ subject: row.subject }).toString()}`,
      details: Object.keys(row.details ?? {}).length ? JSON.stringify(row.details) : '',
    }));
    let nextLink: string | undefined;
    if (page.nextBefore !== undefined) {
      const params = new URLSearchParams();
      if (filters.action) params.set('action', filters.action);
      if (filters.subject) params.set('subject', filters.subject);
      if (filters.actor) params.set('actor', String(filters.actor));
      params.set('before', String(page.nextBefore));
      nextLink = `/staff/audit?${params.toString()}`;
    }
    res.render('audit/list', { title, noindex: true, rows, filters: { ...filters, actor: filters.actor ?? '' }, nextLink, paged: filters.before !== undefined });
  });

  return router;
}
