import type { Actor } from '../audit/audit';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { activeStaffRecipients, localeOfAddress } from '../accounts/users';
import { queueEmail } from '../notifications/outbox';
import { addDays, addMonths } from '../calendar/dates';
import { supportTerms } from '../schedules/schedule-queries';
import { SUPPORT_ENDED_STATUSES } from './families';
import { purgeFamilyIdentity } from './identities';

/**
 * Keep no longer than needed. A family's identity is deleted FAMILY_IDENTITY_RETENTION_MONTHS
 * (default 12) after its support ended, and staff are warned PURGE_WARNING_DAYS before:
 *
 * - closed or withdrawn: support ended on the day staff set that status;
 * - self-sufficient (the family's status, or its support schedule's): support can resume until
 *   the schedule's term is over (arrival + its months), so it ended on the term's last day; a
 *   self-sufficient family without a schedule, on the day staff set the status;
 * - still `arrived` when its schedule's term is over (it ran its 12 months, or its extended end):
 *   support ended on the term's end, the charity's date after the last instalment's month, with
 *   nothing for staff to do. This is computed from the schedule on every run, not recorded, so an
 *   approved extension moves it and a pending extension request keeps the term open.
 *
 * Staff always get the full warning: a purge comes at least PURGE_WARNING_DAYS after its warning
 * went out (so a warning sent late, after a shorter period was configured, moves the purge later).
 * A warning counts only for a purge day at most PURGE_WARNING_DAYS after it: when the day moves
 * later (an extension approved after the warning, a longer period), staff are warned again.
 * A family taken back out of those statuses stops the clock. The purge deletes the encrypted row
 * only (case code, profile, schedule and ledger stay), is audited, and cannot be undone: nothing
 * writes an identity for a purged family again.
 */
export const PURGE_WARNING_DAYS = 30;

export type RetentionSettings = { retentionMonths: number; publicUrl: string; privacyOfficerEmail: string | undefined };

export function retentionSettings(config: Pick<Config, 'familyIdentityRetentionMonths' | 'publicUrl' | 'privacyOfficerEmail'>): RetentionSettings {
  return { retentionMonths: config.familyIdentityRetentionMonths, publicUrl: config.publicUrl, privacyOfficerEmail: config.privacyOfficerEmail };
}

export type EndedSupport = {
  familyId: number;
  caseCode: string;
  reason: 'closed' | 'withdrawn' | 'self_sufficient' | 'term_ended';
  supportEndedOn: string;
  /** The day the identity is deleted: the period after support ended, and never sooner than 30 days after the warning. */
  purgeOn: string;
  warnOn: string;
  /** Staff were warned of this purge day (a warning about an earlier day, since moved, does not count). */
  warned: boolean;
  /** The day of a warning that no longer counts, which a new warning replaces. */
  staleWarningOn: string | null;
};

/** Every family whose support has ended and whose identity is still kept, with its purge and warning days, soonest first. */
export async function listEndedSupport(db: Db, retentionMonths: number, today: string, only?: { familyId: number }): Promise<EndedSupport[]> {
  const endedSchedules = only ? [] : await supportTerms(db, { endedBy: today });
  let query = db
    .selectFrom('families')
    .select(['id', 'case_code', 'status', 'support_ended_on', 'identity_purge_warned_on'])
    .where('identity_purged_at', 'is', null)
    .orderBy('id');
  query = only
    ? query.where('id', '=', only.familyId)
    : query.where((eb) => {
        const ended = eb('status', 'in', [...SUPPORT_ENDED_STATUSES]);
        return endedSchedules.length ? eb.or([ended, eb('id', 'in', endedSchedules.map((s) => s.familyId))]) : ended;
      });
  const families = await query.execute();
  const terms = new Map((await supportTerms(db, { familyIds: families.map((f) => f.id) })).map((t) => [t.familyId, t]));
  const ended: EndedSupport[] = [];
  for (const family of families) {
    const term = terms.get(family.id);
    let reason: EndedSupport['reason'];
    let endedOn: string | null;
    if (family.status === 'closed' || family.status === 'withdrawn') {
      reason = family.status;
      endedOn = family.support_ended_on;
    } else if (family.status === 'self_sufficient' || term?.status === 'self_sufficient') {
      reason = 'self_sufficient';
      endedOn = term ? (term.extensionPending ? null : term.termEndsOn) : family.support_ended_on;
    } else if (family.status === 'arrived' && term && !term.extensionPending && term.termEndsOn <= today) {
      reason = 'term_ended';
      endedOn = term.termEndsOn;
    } else {
      continue;
    }
    if (!endedOn) continue;
    const scheduled = addMonths(endedOn, retentionMonths);
    const warnedOn = family.identity_purge_warned_on;
    const warned = warnedOn !== null && warnedOn >= addDays(scheduled, -PURGE_WARNING_DAYS);
    const earliest = addDays(warned ? warnedOn : today, PURGE_WARNING_DAYS);
    const purgeOn = scheduled > earliest ? scheduled : earliest;
    ended.push({
      familyId: family.id,
      caseCode: family.case_code,
      reason,
      supportEndedOn: endedOn,
      purgeOn,
      warnOn: addDays(purgeOn, -PURGE_WARNING_DAYS),
      warned,
      staleWarningOn: warned ? null : warnedOn,
    });
  }
  return ended.sort((a, b) => a.purgeOn.localeCompare(b.purgeOn) || a.familyId - b.familyId);
}

/** The families whose identity is deleted within the warning period (the staff dashboard's notice). */
export async function upcomingPurges(db: Db, retentionMonths: number, today: string): Promise<EndedSupport[]> {
  return (await listEndedSupport(db, retentionMonths, today)).filter((f) => f.warnOn <= today);
}

/** When one family's identity will be deleted, if its support has ended (the family page says so). */
export async function purgeDateOf(db: Db, retentionMonths: number, familyId: number, today: string): Promise<EndedSupport | undefined> {
  return (await listEndedSupport(db, retentionMonths, today, { familyId }))[0];
}

export type RetentionRun = { purged: number[]; warned: number[]; due: EndedSupport[] };

/**
 * The retention job (the `identity-retention` job runs it hourly, server/jobs/periodic.ts; `npm run purge-family-identities` runs it by hand):
 * purges every identity whose day has come (its warning went out) and warns staff, once per
 * family, of those due within PURGE_WARNING_DAYS (e-mails, in each recipient's language, carry the family's number and a
 * link, never its identity or case code). Each family is its own transaction, and each step is conditional on the row, so two
 * processes running it at once purge and warn each family once. `dryRun` only reports.
 */
export async function applyIdentityRetention(db: Db, settings: RetentionSettings, today: string, options: { actor?: Actor; dryRun?: boolean } = {}): Promise<RetentionRun> {
  const actor = options.actor ?? { userId: null, label: 'retention job' };
  const ended = await listEndedSupport(db, settings.retentionMonths, today);
  const run: RetentionRun = { purged: [], warned: [], due: ended.filter((f) => f.warnOn <= today) };
  if (options.dryRun) return run;
  for (const family of run.due) {
    if (family.warned && family.purgeOn <= today) {
      const purged = await db.transaction().execute((trx) =>
        purgeFamilyIdentity(trx, actor, family.familyId, {
          reason: family.reason,
          supportEndedOn: family.supportEndedOn,
          purgeOn: family.purgeOn,
          retentionMonths: settings.retentionMonths,
        }),
      );
      if (purged) run.purged.push(family.familyId);
    } else if (!family.warned) {
      // Each in their own language (users.locale); the privacy officer in their account's, if they have one.
      const recipients = settings.privacyOfficerEmail
        ? [{ email: settings.privacyOfficerEmail, locale: await localeOfAddress(db, settings.privacyOfficerEmail) }]
        : await activeStaffRecipients(db);
      const warned = await db.transaction().execute(async (trx) => {
        const marked = await trx
          .updateTable('families')
          .set({ identity_purge_warned_on: today })
          .where('id', '=', family.familyId)
          // Unwarned, or warned of a day since moved: a second process finds today's date and stops.
          .where((eb) => (family.staleWarningOn === null ? eb('identity_purge_warned_on', 'is', null) : eb('identity_purge_warned_on', '=', family.staleWarningOn)))
          .where('identity_purged_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!marked) return false;
        for (const to of recipients) {
          await queueEmail(trx, {
            to: to.email,
            template: 'families/identity-purge-warning',
            locale: to.locale,
            data: { familyId: family.familyId, purgeOn: family.purgeOn, months: settings.retentionMonths, link: `${settings.publicUrl}/staff/families/${family.familyId}` },
          });
        }
        return true;
      });
      if (warned) run.warned.push(family.familyId);
    }
  }
  return run;
}
