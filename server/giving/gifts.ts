import type Stripe from 'stripe';
import type { CharityCalendar } from '../calendar/charity-calendar';
import type { Config } from '../config';
import { addMonths } from '../calendar/dates';
import type { Db } from '../db/database';
import { consumeRateLimit } from '../http/rate-limit';
import { issueDonorLink } from './donor-links';
import { findOrCreateDonor, keepGiftDetails } from './donors';
import { createPledge } from './pledges';
import { DomainError } from '../domain-error';
import type { Locale } from '../i18n/i18n';
import type { Logger } from '../logger';
import { translatorFor } from '../i18n/i18n';
import { queueDetailsConfirmation } from './donor-emails';
import { queuePledgeInstructions } from './gift-emails';
import { thanksPath } from './gift-links';
import type { GiveInput } from './give-form';
import { isGroupChoice } from './group-preferences';
import { feeCoverCents, idempotencyPrefix } from './stripe-client';

export type GivingDeps = {
  db: Db;
  /** A streaming replica for the public donor wall (DATABASE_READ_URL); gifts, payments and donors always use db. */
  readDb?: Db;
  stripe: Stripe | undefined;
  config: Config;
  /** The charity's calendar: today, and the dates instalments fall due. */
  calendar: CharityCalendar;
  logger: Logger;
};

/**
 * Where the donor goes next, and the resume token for this browser's cookie (card gifts: the form's
 * personal data, for the browser that typed it, if the donor comes back from Checkout without paying).
 */
export type GiftStarted = { kind: 'checkout'; url: string; pledgeId: number; resumeToken: string } | { kind: 'pay_later'; pledgeId: number; pledgedPath: string };

/**
 * Starts a gift from the giving page: counts the attempt against the rate limits, creates the
 * donor and pledge (pay-later: with its instalments and the e-mailed instructions, in one
 * transaction), then for a card gift opens a Stripe Checkout session whose idempotency key is
 * derived from the pledge, so a retried request never opens a second one.
 */
export async function startGift(deps: GivingDeps, input: GiveInput, request: { ip: string; locale: Locale }): Promise<GiftStarted> {
  const t = translatorFor(request.locale);
  const { perIp, perEmail } = deps.config.pledgeRateLimits;
  const byIp = await consumeRateLimit(deps.db, { name: 'pledge-ip', max: perIp, windowSeconds: 3600 }, request.ip);
  const byEmail = await consumeRateLimit(deps.db, { name: 'pledge-email', max: perEmail, windowSeconds: 3600 }, input.email.toLowerCase());
  if (byIp.limited || byEmail.limited) throw new DomainError('rate_limited', t('giving:give.errors.rateLimited'));
  if (input.method === 'card' && !deps.stripe) throw new DomainError('unavailable', t('giving:give.cardOff'));
  if (input.groupId !== null && !(await isGroupChoice(deps.db, input.groupId))) {
    throw new DomainError('invalid', t('giving:give.errors.groupId'), { groupId: t('giving:give.errors.groupId') });
  }

  const feeCents = input.coverFee ? feeCoverCents(input.amountCents, deps.config.cardFee) : 0;
  const pledgeId = await deps.db.transaction().execute(async (trx) => {
    const campaign = await trx.selectFrom('campaigns').select('id').where('status', '=', 'active').orderBy('id').executeTakeFirst();
    if (!campaign) throw new DomainError('not_found', t('giving:give.errors.noCampaign'));
    // The e-mail's record is created from these details if the e-mail is new; an existing record is
    // never changed by a form: details that differ from it stay on this gift (server/giving/README.md).
    const details = {
      name: input.name,
      addressLine1: input.addressLine1,
      addressLine2: input.addressLine2,
      city: input.city,
      province: input.province,
      postalCode: input.postalCode,
      country: 'CA',
      locale: request.locale,
      // Receipts are English or French (CRA): a Korean-speaking donor chose one on the form.
      receiptLocale: request.locale === 'ko' ? (input.receiptLocale ?? 'en') : null,
    };
    const donorId = await findOrCreateDonor(trx, { email: input.email, ...details });
    const id = await createPledge(trx, {
      campaignId: campaign.id,
      donorId,
      groupId: input.groupId,
      amountCents: input.amountCents,
      feeCoverCents: feeCents,
      frequency: input.frequency,
      installments: input.frequency === 'monthly' ? input.months : null,
      method: input.method,
      anonymous: input.anonymous,
      displayName: input.displayName,
      publicMessage: input.publicMessage,
    });
    await trx.updateTable('pledges').set({ wall_consent: input.wallConsent }).where('id', '=', id).execute();
    if (await keepGiftDetails(trx, id, donorId, details)) await queueDetailsConfirmation(trx, deps.config.publicUrl, id);
    if (input.method !== 'card') {
      const count = input.frequency === 'once' ? 1 : (input.months ?? 1);
      const today = deps.calendar.today();
      await trx
        .insertInto('pledge_installments')
        .values(
          Array.from({ length: count }, (_, i) => ({
            pledge_id: id,
            seq: i + 1,
            due_on: addMonths(today, i),
            amount_cents: input.amountCents,
          })),
        )
        .execute();
      await queuePledgeInstructions(trx, id, { payee: deps.config.charity.name, ...deps.config.contact });
    }
    return id;
  });
  if (input.method !== 'card') return { kind: 'pay_later', pledgeId, pledgedPath: await thanksPath(deps.db, pledgeId, 'pledged') };

  const [thanksToken, resumeToken] = [await issueDonorLink(deps.db, 'thanks', { pledgeId }), await issueDonorLink(deps.db, 'resume', { pledgeId })];
  const session = await openCheckout(deps, pledgeId, input, feeCents, request.locale, thanksToken).catch((error: unknown) => {
    // Stripe unreachable or refusing: the pledge stays pending (it counts nowhere) and the donor may try again.
    throw new DomainError('unavailable', t('giving:give.errors.stripe'), { cause: String((error as Error)?.message ?? error) });
  });
  await deps.db.updateTable('pledges').set({ stripe_checkout_session_id: session.id }).where('id', '=', pledgeId).execute();
  if (!session.url) throw new DomainError('unavailable', t('giving:give.errors.stripe'));
  return { kind: 'checkout', url: session.url, pledgeId, resumeToken };
}

async function openCheckout(deps: GivingDeps, pledgeId: number, input: GiveInput, feeCents: number, locale: Locale, thanksToken: string) {
  const stripe = deps.stripe!;
  const t = translatorFor(locale);
  const base = deps.config.publicUrl;
  const monthly = input.frequency === 'monthly';
  const metadata = { pledge_id: String(pledgeId) };
  const keyPrefix = await idempotencyPrefix({ db: deps.db, publicUrl: deps.config.publicUrl });
  return stripe.checkout.sessions.create(
    {
      mode: monthly ? 'subscription' : 'payment',
      client_reference_id: String(pledgeId),
      customer_email: input.email,
      locale,
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: 'cad',
            unit_amount: input.amountCents + feeCents,
            product_data: { name: t(monthly ? 'giving:checkout.monthlyName' : 'giving:checkout.onceName') },
            ...(monthly ? { recurring: { interval: 'month' as const } } : {}),
          },
        },
      ],
      metadata,
      ...(monthly ? { subscription_data: { metadata } } : { payment_intent_data: { metadata }, submit_type: 'donate' as const }),
      // Stripe keeps these URLs: their token opens only the thank-you page and the form's gift
      // choices; the donor's personal details come back only with this browser's resume cookie.
      success_url: `${base}/give/thanks/${pledgeId}?t=${thanksToken}`,
      cancel_url: `${base}/give?resume=${pledgeId}&t=${thanksToken}`,
    },
    { idempotencyKey: `${keyPrefix}-pledge-${pledgeId}-checkout` },
  );
}

/** The thank-you page: confirmed once the webhook recorded a payment, processing before. */
export async function findGiftStatus(db: Db, pledgeId: number) {
  const pledge = await db
    .selectFrom('pledges')
    .select(['id', 'amount_cents', 'fee_cover_cents', 'frequency', 'installments', 'method', 'status'])
    .where('id', '=', pledgeId)
    .executeTakeFirst();
  if (!pledge) return undefined;
  const paid = await db.selectFrom('payments').select('id').where('pledge_id', '=', pledgeId).limit(1).executeTakeFirst();
  return { ...pledge, confirmed: paid !== undefined };
}

/**
 * The values a donor typed, to refill the form when they come back from Checkout without paying.
 * The gift's choices come with the thank-you token; the personal details (name, e-mail, address)
 * only with `withPersonal`: the resume token this browser holds in its cookie.
 */
export async function findResumeValues(db: Db, pledgeId: number, withPersonal: boolean): Promise<Record<string, string> | undefined> {
  const row = await db
    .selectFrom('pledges')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pledges.id')
    .select([
      'pledges.amount_cents', 'pledges.fee_cover_cents', 'pledges.frequency', 'pledges.installments', 'pledges.anonymous', 'pledges.wall_consent',
      'pledges.display_name', 'pledges.public_message', 'pledges.group_id', 'pd.name', 'pd.email', 'pd.address_line1',
      'pd.address_line2', 'pd.city', 'pd.province', 'pd.postal_code',
    ])
    .where('pledges.id', '=', pledgeId)
    .where('pledges.status', '=', 'pending')
    .executeTakeFirst();
  if (!row) return undefined;
  const dollars = `${Math.floor(row.amount_cents / 100)}.${String(row.amount_cents % 100).padStart(2, '0')}`;
  const choices = {
    amount: 'other',
    customAmount: dollars,
    frequency: row.frequency,
    months: row.installments ? String(row.installments) : '',
    ...(row.fee_cover_cents > 0 ? { coverFee: 'on' } : {}),
    method: 'card',
    wall: row.wall_consent && !row.anonymous ? 'name' : 'anonymous',
    groupId: row.group_id ? String(row.group_id) : '',
  };
  if (!withPersonal) return choices;
  return {
    ...choices,
    name: row.name,
    email: row.email,
    addressLine1: row.address_line1 ?? '',
    addressLine2: row.address_line2 ?? '',
    city: row.city ?? '',
    province: row.province ?? '',
    postalCode: row.postal_code ?? '',
    displayName: row.display_name ?? '',
    publicMessage: row.public_message ?? '',
  };
}
