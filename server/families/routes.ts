import { type Request, type Response, Router } from 'express';
import { doneHref } from '../http/done-notice';
import type { AppDeps } from '../app-deps';
import { DomainError } from '../domain-error';
import { cursorParam, requireIdParam } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import { charityCalendar } from '../calendar/charity-calendar';
import type { FamilyKeyring } from './data-keys';
import { FAMILY_STATUSES, type Family, listFamilies, registerFamily, requireFamily, setFamilyStatus, updateFamilyProfile } from './families';
import { formChoices, identityEditForm, identityForm, parseFamilyForm, ProfileForm, profileValues, revealChoices, RevealForm, StatusForm, statusChoices } from './family-form';
import { purgeDateOf } from './retention';
import { EMPTY_IDENTITY, type FamilyIdentity, IDENTITY_FIELDS, updateFamilyIdentityFields, viewFamilyIdentity } from './identities';

type RevealState = { values: Record<string, unknown>; errors: Record<string, string> };
type Revealed = { reason?: string; editErrors?: Record<string, string>; fields: { name: string; label: string; value: string; error?: string }[] };

/**
 * Staff family records. Identity is shown only in the answer to POST /staff/families/:id/reveal
 * (the fields asked for, with a reason, read through viewFamilyIdentity and audited); URLs
 * carry the internal id only. Family pages are never cached.
 */
function familyId(req: Request): number {
  return requireIdParam(req.params.id, 'families:errors.notFound');
}

function noStore(res: Response) {
  res.setHeader('Cache-Control', 'no-store');
}

const formOptions = { noindex: true };

export function familyRoutes(deps: AppDeps, keyring: FamilyKeyring): Router {
  const router = Router();
  const { db } = deps;
  const calendar = charityCalendar(deps.config.charityTimeZone, deps.clock);

  router.get('/staff/families', allow.staff, async (req, res) => {
    const status = FAMILY_STATUSES.find((s) => s === req.query.status);
    const after = cursorParam(req.query.after);
    const page = await listFamilies(db, { status, after });
    res.render('families/list', {
      ...formOptions,
      title: res.locals.t('families:list.title'),
      families: page.families.map((f) => ({ ...f, statusLabel: `families:status.${f.status}`, vettingLabel: `families:vetting.${f.vettingStatus}` })),
      nextAfter: page.nextAfter,
      status,
    });
  });

  router.get('/staff/families/new', allow.staff, (_req, res) => {
    noStore(res);
    const values = { vettingStatus: 'pending' };
    res.render('families/new', { ...formOptions, ...formChoices(values), title: res.locals.t('families:new.title'), values, identity: EMPTY_IDENTITY });
  });

  router.post('/staff/families', allow.staff, async (req, res) => {
    noStore(res);
    const profile = parseFamilyForm(ProfileForm, req);
    const identity = parseFamilyForm(identityForm(calendar.today()), req);
    if (!profile.ok || !identity.ok) {
      return res.status(400).render('families/new', {
        ...formOptions,
        ...formChoices(profile.values),
        title: res.locals.t('families:new.title'),
        values: profile.values,
        identity: identity.values,
        errors: { ...(profile.ok ? {} : profile.fieldErrors), ...(identity.ok ? {} : identity.fieldErrors) },
      });
    }
    const actor = actorOf(res, 'account');
    const family = await db.transaction().execute((trx) => registerFamily(trx, keyring, actor, profile.data, identity.data));
    res.redirect(303, doneHref(`/staff/families/${family.id}`, 'families.registered'));
  });

  /**
   * The family page: case code, profile and status; identity fields only in `revealed`, which
   * only the reveal route fills (after viewFamilyIdentity has audited the look).
   */
  async function renderFamilyPage(res: Response, id: number, status: number, extra: { values?: Record<string, unknown>; errors?: Record<string, string>; saved?: boolean; reveal?: RevealState; revealed?: Revealed } = {}) {
    noStore(res);
    const family: Family = await requireFamily(db, id);
    const retention = family.identityPurgedAt ? undefined : await purgeDateOf(db, deps.config.familyIdentityRetentionMonths, id, calendar.today());
    const values = extra.values ?? profileValues(family);
    const reveal = extra.reveal ?? { values: {}, errors: {} };
    res.status(status).render('families/show', {
      ...formOptions,
      ...formChoices(values),
      title: family.caseCode,
      family,
      statusLabel: `families:status.${family.status}`,
      statusOptions: statusChoices(family.status),
      saved: extra.saved,
      errors: extra.errors,
      values,
      revealOptions: revealChoices(reveal.values),
      reveal,
      revealed: extra.revealed,
      retention,
      purgedOn: family.identityPurgedAt ? calendar.dateOf(family.identityPurgedAt) : undefined,
    });
  }

  router.get('/staff/families/:id', allow.staff, async (req, res) => {
    await renderFamilyPage(res, familyId(req), 200, { saved: req.query.saved === '1' });
  });

  router.post('/staff/families/:id/profile', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(ProfileForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { values: form.values, errors: form.fieldErrors });
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => updateFamilyProfile(trx, actor, id, form.data));
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  // Reveal on need: the fields asked for, with a reason, audited; the answer is this page (never a URL with the values).
  router.post('/staff/families/:id/reveal', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(RevealForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { reveal: { values: form.values, errors: form.fieldErrors } });
    const actor = actorOf(res, 'account');
    let identity: FamilyIdentity;
    try {
      identity = await db.transaction().execute(async (trx) => {
        await requireFamily(trx, id);
        return viewFamilyIdentity(trx, keyring, actor, id, { purpose: 'staff_reveal', fields: form.data.fields, reason: form.data.reason });
      });
    } catch (error) {
      // A reason that repeats the family's details: nothing shown, nothing recorded (the transaction
      // rolled back), and the reason is not echoed back either.
      if (error instanceof DomainError && error.kind === 'invalid') return renderFamilyPage(res, id, 400, { reveal: { values: { ...form.values, reason: '' }, errors: error.fieldErrors } });
      throw error;
    }
    const fields = IDENTITY_FIELDS.filter((f) => form.data.fields.includes(f));
    await renderFamilyPage(res, id, 200, { revealed: { reason: form.data.reason, fields: fields.map((f) => ({ name: f, label: `families:identity.${f}`, value: identity[f] })) } });
  });

  router.post('/staff/families/:id/identity', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(identityEditForm(calendar.today()), req);
    if (!form.ok) {
      // What the staff member typed comes back to them as typed; nothing stored is read.
      const fields = IDENTITY_FIELDS.filter((f) => [form.values.fields].flat().includes(f));
      const typed = (f: string) => (typeof form.values[f] === 'string' ? (form.values[f] as string) : '');
      return renderFamilyPage(res, id, 400, { revealed: { editErrors: form.fieldErrors, fields: fields.map((f) => ({ name: f, label: `families:identity.${f}`, value: typed(f), error: form.fieldErrors[f] })) } });
    }
    const actor = actorOf(res, 'account');
    await db.transaction().execute(async (trx) => {
      await requireFamily(trx, id);
      await updateFamilyIdentityFields(trx, keyring, actor, id, form.data);
    });
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  router.post('/staff/families/:id/status', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(StatusForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { errors: form.fieldErrors });
    const actor = actorOf(res, 'account');
    await db.transaction().execute((trx) => setFamilyStatus(trx, actor, id, form.data.status, calendar.today()));
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  return router;
}
