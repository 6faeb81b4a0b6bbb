import { type Request, type Response, Router } from 'express';
import type { AppDeps } from '../app';
import type { Actor } from '../audit/audit';
import { cursorParam, requireIdParam } from '../http/forms';
import { allow, requireUser } from '../http/policy';
import type { FamilyKeyring } from './data-keys';
import { FAMILY_STATUSES, type Family, listFamilies, registerFamily, requireFamily, setFamilyStatus, updateFamilyProfile } from './families';
import { formChoices, IdentityForm, parseFamilyForm, ProfileForm, profileValues, StatusForm, statusChoices } from './family-form';
import { EMPTY_IDENTITY, type FamilyIdentity, saveFamilyIdentity, viewFamilyIdentity } from './identities';

/**
 * Staff family records. Only GET /staff/families/:id shows identifying data (read through
 * viewFamilyIdentity, audited); URLs carry the internal id only. Pages with identity are
 * never cached.
 */
export function staffActor(res: Response): Actor {
  const user = requireUser(res);
  return { userId: user.id, label: `user:${user.id}` };
}

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
    const identity = parseFamilyForm(IdentityForm, req);
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
    const actor = staffActor(res);
    const family = await db.transaction().execute((trx) => registerFamily(trx, keyring, actor, profile.data, identity.data));
    res.redirect(303, `/staff/families/${family.id}`);
  });

  async function renderFamilyPage(res: Response, id: number, status: number, extra: Record<string, unknown> = {}) {
    noStore(res);
    const actor = staffActor(res);
    const { family, identity } = await db.transaction().execute(async (trx) => {
      const family: Family = await requireFamily(trx, id);
      const identity: FamilyIdentity = await viewFamilyIdentity(trx, keyring, actor, id, { purpose: 'staff_family_page' });
      return { family, identity };
    });
    const values = (extra.values as Record<string, unknown> | undefined) ?? profileValues(family);
    res.status(status).render('families/show', {
      ...formOptions,
      ...formChoices(values),
      title: family.caseCode,
      family,
      statusLabel: `families:status.${family.status}`,
      statusOptions: statusChoices(family.status),
      identity,
      ...extra,
      values,
    });
  }

  router.get('/staff/families/:id', allow.staff, async (req, res) => {
    await renderFamilyPage(res, familyId(req), 200, { saved: req.query.saved === '1' });
  });

  router.post('/staff/families/:id/profile', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(ProfileForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { values: form.values, errors: form.fieldErrors });
    const actor = staffActor(res);
    await db.transaction().execute((trx) => updateFamilyProfile(trx, actor, id, form.data));
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  router.post('/staff/families/:id/identity', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(IdentityForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { errors: form.fieldErrors });
    const actor = staffActor(res);
    await db.transaction().execute(async (trx) => {
      await requireFamily(trx, id);
      await saveFamilyIdentity(trx, keyring, actor, id, form.data);
    });
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  router.post('/staff/families/:id/status', allow.staff, async (req, res) => {
    const id = familyId(req);
    const form = parseFamilyForm(StatusForm, req);
    if (!form.ok) return renderFamilyPage(res, id, 400, { errors: form.fieldErrors });
    const actor = staffActor(res);
    await db.transaction().execute((trx) => setFamilyStatus(trx, actor, id, form.data.status));
    res.redirect(303, `/staff/families/${id}?saved=1`);
  });

  return router;
}
