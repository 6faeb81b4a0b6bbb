import { type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import { listStaffMembers, userNamesOf } from '../accounts/users';
import type { Db } from '../db/database';
import { caseCodesOf, findFamilyIdByCaseCode } from '../families/families';
import { donorNamesOf } from '../giving/donors';
import { groupNamesOf } from '../groups/public-pages';
import { translations } from '../i18n/i18n';
import { optionalIdParam } from '../http/forms';
import { allow, requireUser } from '../http/policy';
import { INTL_LOCALE, type Locale } from '../i18n/i18n';
import { type AuditFilter, listAudit } from './audit';
import { detailLines } from './details';

const optionalText = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const AuditQuery = z.object({ action: optionalText, subject: optionalText, family: optionalText, actor: optionalIdParam, before: optionalIdParam });

type AuditRow = Awaited<ReturnType<typeof listAudit>>['rows'][number];

const PERSON_DETAILS = ['userId', 'memberId'];

/** The ids under these detail keys in a page of entries (groups and people are shown by name). */
function detailIds(rows: AuditRow[], keys: string[]): number[] {
  return rows.flatMap((r) => keys.map((k) => (r.details as Record<string, unknown> | null)?.[k])).filter((v): v is number => typeof v === 'number');
}

/** A family is found by its case code (HV-…) or its number. */
async function familySubject(db: Db, typed: string): Promise<string | undefined> {
  if (/^\d{1,15}$/.test(typed)) return `family:${typed}`;
  const id = await findFamilyIdByCaseCode(db, typed);
  return id === undefined ? undefined : `family:${id}`;
}

function familyIdOf(subject: string): number | undefined {
  const match = /^family:(\d+)$/.exec(subject);
  return match ? Number(match[1]) : undefined;
}

/** What a look at a family's identity was for: the staff member's reason, or the matched group. */
function revealSummary(t: TFunction, details: Record<string, unknown>) {
  const fields = Array.isArray(details.fields) ? (details.fields as string[]).map((f) => t(`families:identity.${f}`)).join(', ') : '';
  const why = typeof details.reason === 'string' ? details.reason : details.purpose === 'matched_group' ? t('audit:reveals.matchedGroup', { groupId: details.groupId }) : details.purpose === 'support_schedule' ? t('audit:reveals.supportSchedule') : '';
  return { fields, why };
}

/** Labels Haven itself writes for what no person did: jobs, limits, start-up commands. */
const AUTOMATIC = new Set(['system', 'retention job', 'sign-in limit', 'HanVoice']);

/**
 * Who acted, when no account is behind it or the account is gone: Haven's own jobs read "Haven
 * (automatic)", Stripe "Stripe (automatic)", a command its command, a donor on their page by their
 * name; 'user:12' (an account since deleted) reads "Account 12". A name or e-mail is kept as is.
 */
function actorLabel(t: TFunction, label: string, donors: Map<number, string>): string {
  if (AUTOMATIC.has(label)) return t('audit:actors.haven');
  if (label === 'stripe') return t('audit:actors.stripe');
  if (label.startsWith('npm run ')) return t('audit:actors.command', { command: label });
  if (label === 'donor (confirmation link)') return t('audit:actors.donorLink');
  const donor = /^donor:(\d+)$/.exec(label);
  if (donor) return t('audit:actors.donor', { name: donors.get(Number(donor[1])) ?? t('audit:subjects.donor', { id: donor[1] }) });
  const match = /^(?:user|staff|sponsor):(\d+)$/.exec(label);
  return match ? t('audit:subjects.user', { id: match[1] }) : label;
}

/** What was acted on, in words: a group or a person by name, anything else by its kind and number. */
function subjectLabel(t: TFunction, subject: string, names: { people: Map<number, string>; groups: Map<number, string> }): string {
  const match = /^([a-z_]+):(.+)$/.exec(subject);
  if (!match) return subject;
  const [, type, id] = match as unknown as [string, string, string];
  if (type === 'group' && names.groups.has(Number(id))) return names.groups.get(Number(id))!;
  if (type === 'user' && names.people.has(Number(id))) return names.people.get(Number(id))!;
  return translations().exists(`audit:subjects.${type}`, { lng: 'en' }) ? t(`audit:subjects.${type}`, { id }) : subject;
}

/** GET /staff/audit: who did what to what, newest first, filtered, keyset-paged; /staff/audit/mine: my own looks at identities. */
export function auditRoutes(db: Db, timeZone: string): Router {
  const router = Router();

  async function viewRows(res: Response, rows: AuditRow[]) {
    const t = res.locals.t as TFunction;
    const locale = res.locals.locale as Locale;
    const when = new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'medium', timeStyle: 'short', timeZone });
    const subjectIds = (type: string) => rows.map((r) => new RegExp(`^${type}:(\\d+)$`).exec(r.subject)?.[1]).filter((id) => id !== undefined).map(Number);
    const [people, groups] = await Promise.all([
      userNamesOf(db, [...rows.map((r) => r.actor_user_id).filter((id) => id !== null), ...subjectIds('user'), ...detailIds(rows, PERSON_DETAILS)]),
      groupNamesOf(db, [...subjectIds('group'), ...detailIds(rows, ['groupId'])]),
    ]);
    const caseCodes = await caseCodesOf(db, rows.map((r) => familyIdOf(r.subject)).filter((id) => id !== undefined));
    const donors = await donorNamesOf(db, rows.map((r) => /^donor:(\d+)$/.exec(r.actor_label)?.[1]).filter((id) => id !== undefined).map(Number));
    return rows.map((row) => {
      const details = (row.details ?? {}) as Record<string, unknown>;
      const familyId = familyIdOf(row.subject);
      const reveal = row.action === 'family_identity.viewed' ? revealSummary(t, details) : undefined;
      return {
        id: row.id,
        at: when.format(row.at),
        atIso: row.at.toISOString(),
        actor: (row.actor_user_id !== null ? people.get(row.actor_user_id) : undefined) ?? actorLabel(t, row.actor_label, donors),
        actorUserId: row.actor_user_id,
        action: row.action,
        actionLabel: translations().exists(`audit:actions.${row.action}`, { lng: 'en' }) ? t(`audit:actions.${row.action}`) : row.action,
        subjectLabel: subjectLabel(t, row.subject, { people, groups }),
        subject: row.subject,
        caseCode: familyId !== undefined ? caseCodes.get(familyId) : undefined,
        familyId,
        reveal,
        actorLink: row.actor_user_id === null ? undefined : `/staff/audit?actor=${row.actor_user_id}`,
        actionLink: `/staff/audit?${new URLSearchParams({ action: row.action }).toString()}`,
        subjectLink: `/staff/audit?${new URLSearchParams({ subject: row.subject }).toString()}`,
        details: detailLines(t, locale, { people, groups }, row.action, details),
      };
    });
  }

  router.get('/staff/audit', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const parsed = AuditQuery.safeParse(req.query);
    const title = t('audit:title');
    const staffOptions = await listStaffMembers(db);
    if (!parsed.success) {
      return res.status(400).render('audit/list', { title, noindex: true, rows: [], filters: {}, staffOptions, error: t('audit:badFilter') });
    }
    const filters = parsed.data;
    const filter: AuditFilter = { action: filters.action, subject: filters.subject, actorUserId: filters.actor, before: filters.before };
    let notice: string | undefined;
    if (filters.family) {
      const subject = await familySubject(db, filters.family);
      if (subject === undefined) notice = t('audit:unknownFamily');
      filter.subject = subject;
    }
    const page = notice ? { rows: [], nextBefore: undefined } : await listAudit(db, filter);
    let nextLink: string | undefined;
    if (page.nextBefore !== undefined) {
      const params = new URLSearchParams();
      for (const key of ['action', 'subject', 'family'] as const) if (filters[key]) params.set(key, filters[key]);
      if (filters.actor) params.set('actor', String(filters.actor));
      params.set('before', String(page.nextBefore));
      nextLink = `/staff/audit?${params.toString()}`;
    }
    res.render('audit/list', {
      title,
      noindex: true,
      rows: await viewRows(res, page.rows),
      filters: { ...filters, actor: filters.actor ?? '' },
      staffOptions: staffOptions.map((s) => ({ ...s, selected: s.id === filters.actor })),
      notice,
      nextLink,
      paged: filters.before !== undefined,
    });
  });

  router.get('/staff/audit/mine', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const me = requireUser(res);
    const before = optionalIdParam.safeParse(req.query.before);
    const page = await listAudit(db, { action: 'family_identity.viewed', actorUserId: me.id, before: before.success ? before.data : undefined });
    res.render('audit/mine', {
      title: t('audit:mine.title'),
      noindex: true,
      rows: await viewRows(res, page.rows),
      nextLink: page.nextBefore !== undefined ? `/staff/audit/mine?before=${page.nextBefore}` : undefined,
      paged: before.success && before.data !== undefined,
    });
  });

  return router;
}
