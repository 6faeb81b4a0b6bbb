import { type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { doneHref } from '../http/done-notice';
import { requireIdParam } from '../http/forms';
import { actorOf, allow, requireGroupId } from '../http/policy';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import { applyForGroup, requireGroup } from './applications';
import { dollars, email, many, optionalText, parseForm, PROVINCES, text } from './forms';
import { addInKind, currentHousingShare, GROUP_IN_KIND_STATUSES, IN_KIND_CATEGORIES, IN_KIND_STATUSES, listInKind, setInKindStatus } from './in-kind';
import { isGroupMatched } from '../matching/matches';
import { groupPageRoutes } from './page-routes';
import { listPublicGroups } from './public-pages';
import { fundingPosition, groupProfile } from './readiness';
import { savePlan, SETTLEMENT_AREAS, settlementPlan } from './settlement-plan';
import { STORY_MAX } from './story';
import { addMember, listMembers, removeMember, setMemberRole } from './workspace';

export const LANGUAGES = ['ko', 'en', 'fr', 'zh', 'ja', 'ru', 'th'] as const;
export const APPLY_LIMITS = {
  perIp: { name: 'group_apply_ip', max: 10, windowSeconds: 3600 },
  perEmail: { name: 'group_apply_email', max: 3, windowSeconds: 86_400 },
} satisfies Record<string, RateLimit>;

const ApplyForm = z.object({
  name: text(120),
  city: text(80),
  province: z.enum(PROVINCES, 'groups:errors.province'),
  coordinatorName: text(120),
  coordinatorEmail: email,
  languages: many.pipe(z.array(z.enum(LANGUAGES, 'groups:errors.language')).min(1, 'groups:errors.languages')),
  familySize: z.coerce
    .number({ error: 'groups:errors.familySize' })
    .int('groups:errors.familySize')
    .min(1, 'groups:errors.familySize')
    .max(20, 'groups:errors.familySize'),
  story: optionalText(STORY_MAX),
});

const MemberForm = z.object({ name: text(120), email });
const RoleForm = z.object({ role: z.enum(['treasurer', 'member'], 'groups:errors.invalid') });
const InKindForm = z.object({
  category: z.enum(IN_KIND_CATEGORIES, 'groups:errors.category'),
  description: text(500),
  value: dollars(10_000_000),
  evidenceNote: text(1000),
  donorIsParty: z.literal('yes').optional(),
});
const StatusForm = z.object({ status: z.enum(IN_KIND_STATUSES, 'groups:errors.invalid') });

/** A DomainError the form shows next to its fields; anything else goes on to the error handler. */
function formError(error: unknown): DomainError {
  if (error instanceof DomainError && (error.kind === 'conflict' || error.kind === 'invalid')) return error;
  throw error;
}

function idParam(value: unknown): number {
  return requireIdParam(value, 'groups:errors.notFound');
}

export function groupRoutes(deps: { db: Db; readDb?: Db; config: Config }): Router {
  const { db } = deps;
  // Public pages may read a streaming replica (DATABASE_READ_URL); everything a group member does reads the primary.
  const read = deps.readDb ?? db;
  const rules = { startupCashFloorPercent: deps.config.groupStartupCashFloorPercent };
  const router = Router();

  // ---- Applying ----------------------------------------------------------------------------
  const renderApply = (res: Response, status: number, values: Record<string, unknown>, errors: Record<string, string>, message?: string) =>
    res.status(status).render('groups/apply', {
      title: res.locals.t('groups:apply.title'),
      values,
      errors,
      message,
      provinces: PROVINCES.map((code) => ({ code, selected: values.province === code })),
      languages: LANGUAGES.map((code) => ({ code, checked: ([] as unknown[]).concat(values.languages ?? []).includes(code) })),
    });

  router.get('/groups/apply', allow.anyone, (_req, res) => renderApply(res, 200, { familySize: '4', languages: ['ko'] }, {}));

  router.post('/groups/apply', allow.anyone, async (req, res) => {
    const form = parseForm(ApplyForm, req);
    if (!form.ok) return renderApply(res, 400, form.values, form.fieldErrors);
    // Each application e-mails the address given: limit how often one visitor, or one address, can.
    for (const [limit, subject] of [
      [APPLY_LIMITS.perIp, req.ip ?? 'unknown'],
      [APPLY_LIMITS.perEmail, form.data.coordinatorEmail],
    ] as const) {
      const outcome = await consumeRateLimit(db, limit, subject);
      if (outcome.limited) {
        res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
        return renderApply(res, 429, form.values, {}, res.locals.t('groups:errors.rateLimited', { minutes: Math.ceil(outcome.retryAfterSeconds / 60) }));
      }
    }
    const result = await db
      .transaction()
      .execute((trx) => applyForGroup(trx, { ...form.data, locale: res.locals.locale }))
      .catch(formError);
    if (result instanceof DomainError) return renderApply(res, 409, form.values, result.fieldErrors, res.locals.t(result.message));
    res.redirect(303, '/groups/apply/thanks');
  });

  router.get('/groups/apply/thanks', allow.anyone, (_req, res) => res.render('groups/applied', { title: res.locals.t('groups:apply.thanksTitle') }));

  // ---- Public pages ------------------------------------------------------------------------
  router.get('/groups', allow.anyone, async (req, res) => {
    const city = typeof req.query.city === 'string' ? req.query.city.trim().slice(0, 80) : '';
    const after = typeof req.query.after === 'string' ? req.query.after.slice(0, 80) : undefined;
    const page = await listPublicGroups(read, { city: city || undefined, after });
    const next = page.nextAfter ? `/groups?${new URLSearchParams({ ...(city ? { city } : {}), after: page.nextAfter }).toString()}` : undefined;
    res.render('groups/index', { title: res.locals.t('groups:list.title'), city, groups: page.groups, next });
  });

  router.use(groupPageRoutes({ db, read, config: deps.config }));

  // ---- Workspace: always the signed-in member's own group ----------------------------------
  router.get('/group', allow.groupMember, async (_req, res) => {
    const groupId = requireGroupId(res);
    const [group, profile, funding, matched] = await Promise.all([
      requireGroup(db, groupId),
      groupProfile(db, groupId, rules),
      fundingPosition(db, groupId, rules),
      isGroupMatched(db, groupId),
    ]);
    // Once matched, the overview says so instead of "Ready to be matched" (it names nothing of the family).
    res.render('groups/workspace', { title: group.name, group, profile, funding, matched, noindex: true });
  });

  const renderMembers = async (res: Response, status: number, values: Record<string, unknown> = {}, errors: Record<string, string> = {}) => {
    const groupId = requireGroupId(res);
    const [group, members] = await Promise.all([requireGroup(db, groupId), listMembers(db, groupId)]);
    res.status(status).render('groups/workspace-members', {
      title: group.name,
      group,
      members,
      isCoordinator: res.locals.user?.groupRole === 'coordinator',
      values,
      errors,
      noindex: true,
    });
  };
  router.get('/group/members', allow.groupMember, (_req, res) => renderMembers(res, 200));
  router.post('/group/members', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const form = parseForm(MemberForm, req);
    if (!form.ok) return renderMembers(res, 400, form.values, form.fieldErrors);
    const failed = await db
      .transaction()
      .execute((trx) => addMember(trx, groupId, { ...form.data, locale: res.locals.locale }, { invitedBy: actorOf(res, 'name'), publicUrl: deps.config.publicUrl }))
      .catch(formError);
    if (failed instanceof DomainError) return renderMembers(res, 409, form.values, failed.fieldErrors);
    res.redirect(303, doneHref('/group/members', 'groups.memberAdded'));
  });
  router.post('/group/members/:id/role', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const memberId = idParam(req.params.id);
    const form = parseForm(RoleForm, req);
    if (!form.ok) throw new DomainError('invalid', 'groups:errors.invalid');
    await db.transaction().execute((trx) => setMemberRole(trx, actorOf(res, 'name'), groupId, memberId, form.data.role));
    res.redirect(303, doneHref('/group/members', 'groups.roleChanged'));
  });
  router.post('/group/members/:id/remove', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const memberId = idParam(req.params.id);
    await db.transaction().execute((trx) => removeMember(trx, groupId, memberId));
    res.redirect(303, doneHref('/group/members', 'groups.memberRemoved'));
  });

  router.get('/group/plan', allow.groupMember, async (_req, res) => {
    const groupId = requireGroupId(res);
    const [group, plan, members] = await Promise.all([requireGroup(db, groupId), settlementPlan(db, groupId), listMembers(db, groupId)]);
    const areas = plan.areas.map((a) => ({ ...a, options: members.map((m) => ({ id: m.id, name: m.name, checked: a.memberIds.includes(m.id) })) }));
    res.render('groups/workspace-plan', {
      title: group.name,
      group,
      plan,
      areas,
      percent: Math.round(plan.completeness * 100),
      noindex: true,
    });
  });
  router.post('/group/plan', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const assignments: Record<string, number[]> = {};
    for (const area of SETTLEMENT_AREAS) {
      const ids = many.safeParse(body[area]);
      if (!ids.success) throw new DomainError('invalid', 'groups:errors.invalid');
      assignments[area] = ids.data.map((v) => idParam(v));
    }
    await db.transaction().execute((trx) => savePlan(trx, groupId, assignments));
    res.redirect(303, doneHref('/group/plan', 'groups.planSaved'));
  });

  const renderInKind = async (res: Response, status: number, values: Record<string, unknown> = {}, errors: Record<string, string> = {}) => {
    const groupId = requireGroupId(res);
    const [group, items, funding, housingShare] = await Promise.all([requireGroup(db, groupId), listInKind(db, groupId), fundingPosition(db, groupId, rules), currentHousingShare(db)]);
    res.status(status).render('groups/workspace-in-kind', {
      title: group.name,
      group,
      items,
      funding,
      categories: IN_KIND_CATEGORIES.map((code) => ({ code, selected: values.category === code })),
      statuses: GROUP_IN_KIND_STATUSES,
      floorPercent: rules.startupCashFloorPercent,
      housingPercent: housingShare.basisPoints / 100,
      values,
      errors,
      noindex: true,
    });
  };
  router.get('/group/in-kind', allow.groupMember, (_req, res) => renderInKind(res, 200));
  router.post('/group/in-kind', allow.groupMember, async (req, res) => {
    const groupId = requireGroupId(res);
    const form = parseForm(InKindForm, req);
    if (!form.ok) return renderInKind(res, 400, form.values, form.fieldErrors);
    const { value, donorIsParty, ...rest } = form.data;
    await db.transaction().execute((trx) => addInKind(trx, groupId, { ...rest, valueCents: value, donorIsParty: donorIsParty === 'yes' }));
    res.redirect(303, doneHref('/group/in-kind', 'groups.inKindAdded'));
  });
  router.post('/group/in-kind/:id/status', allow.groupTreasurer, async (req, res) => {
    const groupId = requireGroupId(res);
    const id = idParam(req.params.id);
    const form = parseForm(StatusForm, req);
    if (!form.ok) throw new DomainError('invalid', 'groups:errors.invalid');
    const status = form.data.status;
    // Confirming or receiving an item is staff's, after checking its evidence: what counts toward readiness.
    if (status === 'confirmed' || status === 'received') throw new DomainError('forbidden', 'groups:errors.inKindStaffOnly');
    await db.transaction().execute((trx) => setInKindStatus(trx, groupId, id, status));
    res.redirect(303, doneHref('/group/in-kind', 'groups.inKindStatus'));
  });

  return router;
}
