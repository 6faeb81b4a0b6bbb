import { randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import Stripe from 'stripe';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, PaymentMethod, PaymentStatus, PledgeStatus } from '../db/schema';
import { endPledge } from './pledges';
import { DomainError } from '../domain-error';
import { formatMoney } from '../http/views';
import { type Locale, translatorFor } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { type PayLaterAddresses, pledgeReference } from './gift-emails';
import { idempotencyPrefix } from './stripe-client';

/** Staff views and actions on gifts. Every action writes an audit row in its own transaction. */
const PAGE = 50;

function escapeLike(text: string): string {
  return `%${text.replace(/[%_\\]/g, '\\$&')}%`;
}

export type PaymentFilter = { q?: string; method?: PaymentMethod; status?: PaymentStatus; before?: number };

/** Payments received, newest first, keyset-paged by id. */
export async function listPayments(db: Db, filter: PaymentFilter) {
  let query = db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select([
      'payments.id', 'payments.pledge_id', 'payments.amount_cents', 'payments.fee_cents', 'payments.refunded_cents', 'payments.method',
      'payments.status', 'payments.reference', 'payments.received_at', 'payments.received_on', 'donors.name as donor_name', 'donors.email as donor_email', 'pledges.donor_id',
    ])
    .orderBy('payments.id', 'desc')
    .limit(PAGE + 1);
  if (filter.q) {
    const like = escapeLike(filter.q);
    query = query.where((eb) => eb.or([eb('donors.name', 'ilike', like), eb('donors.email', 'ilike', like), eb('payments.reference', 'ilike', like)]));
  }
  if (filter.method) query = query.where('payments.method', '=', filter.method);
  if (filter.status) query = query.where('payments.status', '=', filter.status);
  if (filter.before) query = query.where('payments.id', '<', filter.before);
  const rows = await query.execute();
  return { rows: rows.slice(0, PAGE), nextBefore: rows.length > PAGE ? rows[PAGE - 1]!.id : undefined };
}

export type PledgeFilter = { q?: string; status?: PledgeStatus; method?: 'card' | 'cheque' | 'etransfer'; before?: number };

export async function listPledges(db: Db, filter: PledgeFilter) {
  let query = db
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select([
      'pledges.id', 'pledges.amount_cents', 'pledges.fee_cover_cents', 'pledges.frequency', 'pledges.installments', 'pledges.method',
      'pledges.status', 'pledges.group_id', 'pledges.created_at', 'donors.name as donor_name', 'donors.email as donor_email', 'pledges.donor_id',
    ])
    .select(sql<number>`(select coalesce(sum(amount_cents - refunded_cents), 0)::bigint from payments where payments.pledge_id = pledges.id and payments.status <> 'voided')`.as('received_cents'))
    .orderBy('pledges.id', 'desc')
    .limit(PAGE + 1);
  if (filter.q) {
    const like = escapeLike(filter.q);
    query = query.where((eb) => eb.or([eb('donors.name', 'ilike', like), eb('donors.email', 'ilike', like)]));
  }
  if (filter.status) query = query.where('pledges.status', '=', filter.status);
  if (filter.method) query = query.where('pledges.method', '=', filter.method);
  if (filter.before) query = query.where('pledges.id', '<', filter.before);
  const rows = await query.execute();
  return { rows: rows.slice(0, PAGE), nextBefore: rows.length > PAGE ? rows[PAGE - 1]!.id : undefined };
}

export async function requirePledgeDetail(db: Db, pledgeId: number, locale: Locale = 'en') {
  const pledge = await db
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select([
      'pledges.id', 'pledges.amount_cents', 'pledges.fee_cover_cents', 'pledges.frequency', 'pledges.installments', 'pledges.method',
      'pledges.status', 'pledges.group_id', 'pledges.anonymous', 'pledges.created_at', 'pledges.stripe_subscription_id',
      'donors.name as donor_name', 'donors.email as donor_email', 'pledges.donor_id',
    ])
    .where('pledges.id', '=', pledgeId)
    .executeTakeFirst();
  if (!pledge) throw new DomainError('not_found', translatorFor(locale)('giving:staff.errors.noPledge', { id: pledgeId }));
  const [installments, payments] = await Promise.all([
    db.selectFrom('pledge_installments').select(['id', 'seq', 'due_on', 'amount_cents', 'status', 'payment_id', 'reminded_at']).where('pledge_id', '=', pledgeId).orderBy('seq').execute(),
    db
      .selectFrom('payments')
      .select([
        'id', 'amount_cents', 'fee_cents', 'refunded_cents', 'method', 'status', 'reference', 'received_at', 'received_on', 'stripe_charge_id',
        'advantage_cents', 'advantage_description', 'voided_at', 'void_reason', 'corrects_payment_id',
      ])
      .select((eb) => eb.selectFrom('payments as c').select('c.id').whereRef('c.corrects_payment_id', '=', 'payments.id').as('corrected_by'))
      .where('pledge_id', '=', pledgeId)
      .orderBy('id')
      .execute(),
  ]);
  const history = await paymentHistory(db, payments.map((p) => p.id));
  return {
    pledge,
    reference: pledgeReference(pledge.id),
    installments,
    payments: payments.map((p) => ({ ...p, voided: p.status === 'voided', offline: p.method !== 'card' })),
    history,
    open: pledge.status === 'active' || pledge.status === 'pending',
  };
}

/** What happened to these payments, oldest first: the audit trail of recordings, voids and corrections. */
export async function paymentHistory(db: Db, paymentIds: number[]) {
  if (paymentIds.length === 0) return [];
  const rows = await db
    .selectFrom('audit_log')
    .select(['id', 'action', 'subject', 'actor_label', 'details', 'at'])
    .where('subject', 'in', paymentIds.map((id) => `payment:${id}`))
    .orderBy('id')
    .execute();
  return rows.map((r) => {
    const details = r.details as { reason?: string; amountCents?: number; from?: { amountCents: number; receivedOn: string }; to?: { amountCents: number; receivedOn: string } };
    return { at: r.at, action: r.action, paymentId: Number(r.subject.split(':')[1]), actor: r.actor_label, reason: details.reason ?? null, amountCents: details.amountCents ?? null, from: details.from ?? null, to: details.to ?? null };
  });
}

/**
 * The payments one gift has been recorded as, oldest first: the first recording and each
 * correction of it (`corrects_payment_id`), whichever of them `paymentId` is.
 */
export async function correctionChain(db: Db, paymentId: number): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    with recursive earlier(id, corrects) as (
      select id, corrects_payment_id from payments where id = ${paymentId}
      union all
      select p.id, p.corrects_payment_id from payments p join earlier on p.id = earlier.corrects
    ), chain(id) as (
      select id from earlier where corrects is null
      union all
      select p.id from payments p join chain on p.corrects_payment_id = chain.id
    )
    select id from chain order by id`.execute(db);
  return rows.map((r) => Number(r.id));
}

/** One payment with its pledge, ledger postings, receipts and history (of the gift's whole correction chain): the staff gift page. */
export async function requirePaymentDetail(db: Db, paymentId: number, locale: Locale = 'en') {
  const payment = await db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select([
      'payments.id', 'payments.pledge_id', 'payments.amount_cents', 'payments.fee_cents', 'payments.refunded_cents', 'payments.method', 'payments.status',
      'payments.reference', 'payments.received_at', 'payments.received_on', 'payments.advantage_cents', 'payments.advantage_description',
      'payments.voided_at', 'payments.void_reason', 'payments.corrects_payment_id', 'pledges.donor_id', 'donors.name as donor_name', 'donors.email as donor_email',
    ])
    .select((eb) => eb.selectFrom('payments as c').select('c.id').whereRef('c.corrects_payment_id', '=', 'payments.id').as('corrected_by'))
    .where('payments.id', '=', paymentId)
    .executeTakeFirst();
  if (!payment) throw new DomainError('not_found', translatorFor(locale)('giving:staff.errors.noPayment', { id: paymentId }));
  const [postings, receipts, history] = await Promise.all([
    db
      .selectFrom('ledger_transactions')
      .innerJoin('ledger_entries', 'ledger_entries.transaction_id', 'ledger_transactions.id')
      .select(['ledger_transactions.id', 'ledger_transactions.kind', 'ledger_transactions.created_at', 'ledger_entries.account', 'ledger_entries.amount_cents'])
      .where('ledger_transactions.payment_id', '=', paymentId)
      .orderBy('ledger_transactions.id')
      .orderBy('ledger_entries.id')
      .execute(),
    db
      .selectFrom('receipt_payments')
      .innerJoin('receipts', 'receipts.id', 'receipt_payments.receipt_id')
      .select(['receipts.id', 'receipts.serial', 'receipts.status', 'receipts.amount_cents', 'receipts.eligible_amount_cents'])
      .where('receipt_payments.payment_id', '=', paymentId)
      .orderBy('receipts.id')
      .execute(),
    correctionChain(db, paymentId).then((ids) => paymentHistory(db, ids)),
  ]);
  return { payment: { ...payment, voided: payment.status === 'voided', correctable: payment.method !== 'card' && payment.status !== 'voided' }, postings, receipts, history };
}

/** Staff end a pledge that will not be paid (cancelled or lapsed, reason required): what it still promised leaves the pledged total. */
export async function closePledge(trx: Transaction<Database>, input: { pledgeId: number; status: 'cancelled' | 'lapsed'; reason: string; actor: Actor; at: Date }): Promise<number> {
  const released = await endPledge(trx, { pledgeId: input.pledgeId, status: input.status, at: input.at });
  await writeAudit(trx, { actor: input.actor, action: `pledge.${input.status}`, subject: `pledge:${input.pledgeId}`, details: { reason: input.reason, releasedCents: released } });
  return released;
}

/** What identifies one refund request: a random id in the refund form, new each time the page is shown. */
export const REFUND_REQUEST_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function newRefundRequestId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Staff refund a card payment, fully or partly, also while an inquiry is open (the usual way to
 * head off a chargeback); not while a chargeback's funds are withdrawn (Stripe refuses that too).
 * Stripe is asked with an idempotency key from the installation and the form's request id: the
 * same form posted twice (a double click) refunds once, two refunds asked for from two page
 * loads are two refunds, even of the same amount before the first webhook lands. The ledger
 * moves only when Stripe's charge.refunded webhook arrives.
 */
export async function requestRefund(
  deps: { db: Db; stripe: Stripe | undefined; publicUrl: string },
  input: { paymentId: number; amountCents: number; requestId: string; actor: Actor; locale?: Locale },
): Promise<string> {
  const { db, stripe } = deps;
  const locale = input.locale ?? 'en';
  const t = translatorFor(locale);
  if (!stripe) throw new DomainError('unavailable', t('giving:staff.errors.stripeOff'));
  if (!REFUND_REQUEST_ID.test(input.requestId)) throw new DomainError('invalid', t('giving:staff.errors.refundForm'));
  const payment = await db.selectFrom('payments').select(['id', 'method', 'amount_cents', 'refunded_cents', 'stripe_charge_id', 'status']).where('id', '=', input.paymentId).executeTakeFirst();
  if (!payment) throw new DomainError('not_found', t('giving:staff.errors.noPayment', { id: input.paymentId }));
  if (payment.method !== 'card' || !payment.stripe_charge_id) throw new DomainError('conflict', t('giving:staff.errors.notCard'));
  if (payment.status === 'disputed') throw new DomainError('conflict', t('giving:staff.errors.disputed'));
  const refundable = payment.amount_cents - payment.refunded_cents;
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0 || input.amountCents > refundable) {
    const message = t('giving:staff.errors.refundRange', { max: formatMoney(refundable, locale) });
    throw new DomainError('invalid', message, { amount: message });
  }
  const refund = await stripe.refunds
    .create(
      { charge: payment.stripe_charge_id, amount: input.amountCents, reason: 'requested_by_customer', metadata: { payment_id: String(payment.id) } },
      { idempotencyKey: `${await idempotencyPrefix(deps)}-payment-${payment.id}-refund-${input.requestId}` },
    )
    .catch((error: unknown) => {
      // Stripe refused (more than is left, a chargeback) or could not be reached: nothing was refunded, and staff read why.
      if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeIdempotencyError) {
        throw new DomainError('conflict', t('giving:staff.errors.refundRefused', { reason: error.message }));
      }
      throw new DomainError('unavailable', t('giving:staff.errors.refundUnavailable'));
    });
  await db.transaction().execute(async (trx) => {
    // The same form posted twice got the same refund back from Stripe: one audit row for it.
    const known = await trx
      .selectFrom('audit_log')
      .select('id')
      .where('subject', '=', `payment:${payment.id}`)
      .where('action', '=', 'payment.refund_requested')
      .where(sql<string>`details->>'stripeRefundId'`, '=', refund.id)
      .executeTakeFirst();
    if (known) return;
    await writeAudit(trx, {
      actor: input.actor,
      action: 'payment.refund_requested',
      subject: `payment:${payment.id}`,
      details: { amountCents: input.amountCents, stripeRefundId: refund.id },
    });
  });
  return refund.id;
}

/** Pay-later instalments past due (`today` is the charity's date), oldest first. */
export async function listOverdueInstallments(db: Db, today: string) {
  return db
    .selectFrom('pledge_installments')
    .innerJoin('pledges', 'pledges.id', 'pledge_installments.pledge_id')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select([
      'pledge_installments.id', 'pledge_installments.pledge_id', 'pledge_installments.seq', 'pledge_installments.due_on',
      'pledge_installments.amount_cents', 'pledge_installments.reminded_at', 'donors.name as donor_name', 'donors.email as donor_email',
    ])
    .where('pledge_installments.status', '=', 'due')
    .where('pledge_installments.due_on', '<', today)
    .where('pledges.status', '=', 'active')
    .orderBy('pledge_installments.due_on')
    .orderBy('pledge_installments.id')
    .limit(500)
    .execute();
}

/** Queues a reminder (outbox) for each overdue instalment not reminded in the last week; returns how many. */
export async function remindOverdueInstallments(trx: Transaction<Database>, input: { actor: Actor; today: string; now?: Date; payTo: PayLaterAddresses }): Promise<number> {
  const { today } = input;
  const now = input.now ?? new Date();
  const weekAgo = new Date(now.getTime() - 7 * 24 * 3600 * 1000);
  const due = await trx
    .selectFrom('pledge_installments')
    .innerJoin('pledges', 'pledges.id', 'pledge_installments.pledge_id')
    .innerJoin('pledge_donors as donors', 'donors.pledge_id', 'pledges.id')
    .select(['pledge_installments.id', 'pledge_installments.pledge_id', 'pledge_installments.due_on', 'pledge_installments.amount_cents', 'pledges.method', 'donors.email', 'donors.name', 'donors.locale'])
    .where('pledge_installments.status', '=', 'due')
    .where('pledge_installments.due_on', '<', today)
    .where('pledges.status', '=', 'active')
    .where((eb) => eb.or([eb('pledge_installments.reminded_at', 'is', null), eb('pledge_installments.reminded_at', '<', weekAgo)]))
    .forUpdate('pledge_installments')
    .execute();
  for (const row of due) {
    await queueEmail(trx, {
      to: row.email,
      template: 'giving/installment-reminder',
      locale: row.locale,
      data: { name: row.name, amountCents: row.amount_cents, dueOn: row.due_on, reference: pledgeReference(row.pledge_id), cheque: row.method === 'cheque', ...input.payTo },
    });
    await trx.updateTable('pledge_installments').set({ reminded_at: now }).where('id', '=', row.id).execute();
  }
  await writeAudit(trx, { actor: input.actor, action: 'installment.reminders_sent', subject: 'installments:overdue', details: { count: due.length, ids: due.map((r) => r.id) } });
  return due.length;
}
