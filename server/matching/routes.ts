import { type Request, type Response, Router } from 'express';
import { doneHref } from '../http/done-notice';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { DomainError } from '../domain-error';
import { idParam, requireIdParam } from '../http/forms';
import type { FamilyKeyring } from '../families/data-keys';
import { listFamilies, requireFamily } from '../families/families';
import { SHAREABLE_FIELDS, type ShareableField } from '../families/identities';
import { actorOf, allow, requireGroupId, requireUser } from '../http/policy';
import { prioritisedAssignment } from './assignment';
import { type CandidateGroup, currentCostTable, heldFamilyIds, listCandidateGroups, needsProfileOf, priorityOrder, recordSupportOffers, setPriorityOrder } from './candidates';
import { viewMatchedFamily } from './matched-family';
import { adviseFamily, PIPELINE_MONTHS, pipelineFutures } from './placement';
import { approveMatch, expireHolds, listMatches, proposeMatch, rejectMatch, requireMatch, setSharedFields, withdrawMatch } from './matches';
import { PRIORITY_NEEDS, type PriorityNeed, requirementCents, SCORE_PARTS, scoreGroup, suggestGroups } from './score';

/** Likely futures drawn for the suggestions page's placement advice. */
const PLACEMENT_FUTURES = 20;

const SHAREABLE = Object.keys(SHAREABLE_FIELDS) as ShareableField[];

function matchingId(req: Request, name = 'id'): number {
  return requireIdParam(req.params[name], 'matching:errors.notFound');
}

const checkbox = z
  .string()
  .optional()
  .transform((v) => v === 'on' || v === 'true' || v === '1');
const ProposeForm = z.object({
  familyId: idParam,
  groupId: idParam,
  /** Present (possibly empty) when staff submit the SGBV override form. */
  sgbvOverrideReason: z.string().trim().max(2000).optional(),
});
const PrioritiesForm = z.object({ order: z.array(z.enum(PRIORITY_NEEDS)).length(PRIORITY_NEEDS.length) });
const SharedForm = z.object({
  shared: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .pipe(z.array(z.enum(SHAREABLE as [ShareableField, ...ShareableField[]]))),
});
const ReasonForm = z.object({ reason: z.string().trim().max(2000).optional().default('') });
const OffersForm = z.object({ sgbvInformedSupport: checkbox, medicalSupport: checkbox, traumaInformedSupport: checkbox });

function parse<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new DomainError('invalid', 'matching:errors.invalid');
  return parsed.data;
}

const partLabels = Object.fromEntries(SCORE_PARTS.map((p) => [p, `matching:parts.${p}`]));
const statusLabels = Object.fromEntries(['proposed', 'approved', 'rejected', 'withdrawn', 'expired'].map((s) => [s, `matching:status.${s}`]));
const shareLabels: Record<ShareableField, string> = {
  names: 'families:identity.names',
  dates_of_birth: 'families:identity.datesOfBirth',
  contact: 'families:identity.contact',
  current_location: 'families:identity.currentLocation',
};

const priorityLabels = (order: readonly PriorityNeed[]) => order.map((need, i) => ({ need, position: i + 1, label: `matching:priorities.needs.${need}` }));

function groupLabels(groups: CandidateGroup[]) {
  return new Map(groups.map((g) => [g.id, { name: g.name, city: g.city, province: g.province }]));
}

/** Staff matching pages, and the matched group's view of its family in the workspace. */
export function matchingRoutes(deps: AppDeps, keyring: FamilyKeyring): Router {
  const router = Router();
  const { db, config } = deps;
  const expireNow = () => db.transaction().execute((trx) => expireHolds(trx, config));

  /**
   * Dynamic placement advice (placement.ts): whether to hold this family's first suggestion for a
   * family now in vetting who is likely to need it more. Advice shown to staff, never acted on.
   */
  const holdHint = async (familyId: number, groups: CandidateGroup[], costTable: Awaited<ReturnType<typeof currentCostTable>>, order: PriorityNeed[]) => {
    const [{ families: waiting }, { families: referred }, held] = await Promise.all([
      listFamilies(db, { status: 'available', limit: 500 }),
      listFamilies(db, { status: 'referred', limit: 500 }),
      heldFamilyIds(db),
    ]);
    const self = waiting.find((f) => f.id === familyId);
    if (!self) return undefined;
    const others = waiting.filter((f) => f.id !== familyId && !held.has(f.id));
    const pipeline = referred.filter((f) => f.vettingStatus !== 'refused').map(needsProfileOf);
    if (pipeline.length === 0) return undefined;
    const free = groups.filter((g) => g.ready && !g.taken);
    const advice = adviseFamily(
      [self, ...others].map((f) => ({ profile: needsProfileOf(f), arrives: 0 })),
      free,
      pipelineFutures(pipeline, PLACEMENT_FUTURES, familyId),
      { now: 0, maxWaitMonths: PIPELINE_MONTHS, costTable, weights: config.matchWeights, order },
    );
    return advice.kind === 'hold' && advice.votes * 2 > advice.futures ? advice : undefined;
  };

  const renderSuggestions = async (res: Response, familyId: number, status = 200, form: { groupId?: number; reason?: string; error?: string } = {}) => {
    await expireNow();
    const family = await requireFamily(db, familyId);
    const [groups, costTable, order] = await Promise.all([listCandidateGroups(db, config, { all: true }), currentCostTable(db), priorityOrder(db)]);
    const suggestions = suggestGroups(needsProfileOf(family), groups, costTable, config.matchWeights, order);
    const labels = groupLabels(groups);
    const available = family.status === 'available';
    const hold = available ? await holdHint(family.id, groups, costTable, order) : undefined;
    res.status(status).render('matching/suggestions', {
      title: res.locals.t('matching:suggestions.title', { caseCode: family.caseCode }),
      noindex: true,
      family,
      available,
      hold: hold && {
        group: labels.get(hold.groupId)?.name,
        alternative: hold.placeWith === null ? '' : res.locals.t('matching:suggestions.holdAlternative', { placeWith: labels.get(hold.placeWith)?.name }),
        need: hold.need ? res.locals.t(`matching:priorities.needs.${hold.need}`) : undefined,
        votes: hold.votes,
        futures: hold.futures,
      },
      priorities: priorityLabels(order),
      ranked: suggestions.ranked.map((s) => ({
        ...s,
        group: labels.get(s.groupId),
        meets: order.filter((_, k) => s.tiers[k] === 1).map((need) => `matching:priorities.needs.${need}`),
      })),
      excluded: suggestions.excluded.map((s) => {
        const failed = form.groupId === s.groupId;
        return {
          ...s,
          group: labels.get(s.groupId),
          missingLabels: s.detail.missing.map((m) => `groups:missing.${m}`),
          // The SGBV rule alone: staff may propose with a recorded reason.
          overridable: available && s.reasons.length === 1 && s.reasons[0] === 'no_sgbv_support',
          reasonValue: failed ? form.reason : '',
          reasonError: failed ? form.error : undefined,
        };
      }),
      partLabels,
    });
  };

  router.get('/staff/families/:id/suggestions', allow.staff, (req, res) => renderSuggestions(res, matchingId(req)));

  router.get('/staff/matching/assignment', allow.staff, async (req, res) => {
    await expireNow();
    const [{ families: available }, held, groups, costTable, order] = await Promise.all([
      listFamilies(db, { status: 'available', limit: 500 }),
      heldFamilyIds(db),
      listCandidateGroups(db, config),
      currentCostTable(db),
      priorityOrder(db),
    ]);
    const families = available.filter((f) => !held.has(f.id));
    const matrix = families.map((f) => {
      const need = requirementCents(costTable, f.size);
      return groups.map((g) => {
        const s = scoreGroup(needsProfileOf(f), g, need, config.matchWeights, order);
        return s.eligible ? { tiers: s.tiers, score: s.score } : null;
      });
    });
    const assignment = prioritisedAssignment(matrix);
    res.render('matching/assignment', {
      title: res.locals.t('matching:assignment.title'),
      noindex: true,
      saved: req.query.saved === 'priorities',
      total: assignment.total,
      placed: assignment.placed,
      priorities: priorityLabels(order).map((p, k) => ({ ...p, met: assignment.tierCounts[k] ?? 0 })),
      pairs: assignment.pairs.map((p) => ({
        family: families[p.row]!,
        group: groups[p.col]!,
        score: p.score,
        meets: order.filter((_, k) => p.tiers[k] === 1).map((need) => `matching:priorities.needs.${need}`),
      })),
      unassigned: families.filter((_, row) => !assignment.pairs.some((p) => p.row === row)),
    });
  });

  router.post('/staff/matching/priorities', allow.staff, async (req, res) => {
    const form = parse(PrioritiesForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => setPriorityOrder(trx, actor, form.order));
    res.redirect(303, '/staff/matching/assignment?saved=priorities');
  });

  router.post('/staff/matches', allow.staff, async (req, res) => {
    const form = parse(ProposeForm, req);
    if (form.sgbvOverrideReason === '') {
      return renderSuggestions(res, form.familyId, 400, { groupId: form.groupId, reason: '', error: 'matching:errors.overrideReasonRequired' });
    }
    const actor = actorOf(res, 'account');
    const match = await db.transaction().execute((trx) => proposeMatch(trx, config, actor, form));
    res.redirect(303, doneHref(`/staff/matches/${match.id}`, 'matching.proposed'));
  });

  router.get('/staff/matches', allow.staff, async (_req, res) => {
    await expireNow();
    const matches = await listMatches(db);
    res.render('matching/list', { title: res.locals.t('matching:list.title'), noindex: true, matches, statusLabels });
  });

  router.get('/staff/matches/:id', allow.staff, async (req, res) => {
    await expireNow();
    const match = await requireMatch(db, matchingId(req));
    const family = await requireFamily(db, match.familyId);
    const group = await db.selectFrom('sponsor_groups').select(['id', 'name', 'city', 'province']).where('id', '=', match.groupId).executeTakeFirst();
    const user = requireUser(res);
    res.render('matching/show', {
      title: res.locals.t('matching:show.title', { id: match.id }),
      noindex: true,
      match,
      family,
      group,
      proposed: match.status === 'proposed',
      approved: match.status === 'approved',
      live: match.status === 'proposed' || match.status === 'approved',
      partLabels,
      statusLabels,
      shareLabels,
      canApprove: match.status === 'proposed' && match.proposedBy !== user.id,
      shareable: SHAREABLE.map((f) => ({ field: f, checked: match.sharedFields.includes(f) })),
    });
  });

  router.post('/staff/matches/:id/approve', allow.staff, async (req, res) => {
    const id = matchingId(req);
    const form = parse(SharedForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => approveMatch(trx, config, actor, id, form.shared));
    res.redirect(303, doneHref(`/staff/matches/${id}`, 'matching.approved'));
  });

  router.post('/staff/matches/:id/reject', allow.staff, async (req, res) => {
    const id = matchingId(req);
    const form = parse(ReasonForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => rejectMatch(trx, config, actor, id, form.reason));
    res.redirect(303, doneHref(`/staff/matches/${id}`, 'matching.rejected'));
  });

  router.post('/staff/matches/:id/withdraw', allow.staff, async (req, res) => {
    const id = matchingId(req);
    const form = parse(ReasonForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => withdrawMatch(trx, config, actor, id, form.reason));
    res.redirect(303, doneHref(`/staff/matches/${id}`, 'matching.withdrawn'));
  });

  router.post('/staff/matches/:id/sharing', allow.staff, async (req, res) => {
    const id = matchingId(req);
    const form = parse(SharedForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => setSharedFields(trx, actor, id, form.shared));
    res.redirect(303, doneHref(`/staff/matches/${id}`, 'matching.sharing'));
  });

  router.post('/staff/matching/groups/:id/offers', allow.staff, async (req, res) => {
    const id = matchingId(req);
    const form = parse(OffersForm, req);
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => recordSupportOffers(trx, actor, id, form));
    res.redirect(303, doneHref('/staff/matching/groups', 'matching.offers'));
  });

  router.get('/staff/matching/groups', allow.staff, async (_req, res) => {
    const groups = await listCandidateGroups(db, config);
    res.render('matching/groups', { title: res.locals.t('matching:groups.title'), noindex: true, groups });
  });

  // The matched group's workspace view of its family: members only, never cached, each view audited.
  router.get('/group/family', allow.groupMember, async (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    const user = requireUser(res);
    const groupId = requireGroupId(res);
    const family = await db.transaction().execute((trx) => viewMatchedFamily(trx, keyring, { userId: user.id, label: `user:${user.id}` }, groupId));
    res.render('matching/group-family', {
      title: res.locals.t('matching:groupFamily.title'),
      noindex: true,
      family,
      needLabels: (family?.needs ?? []).map((n) => `families:needs.${n}`),
    });
  });

  return router;
}
