import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { billingPortalSession } from './stripe-fixtures/billing-portal-sessions';
import { chargeBalanceTransaction, disputeReinstatement, disputeWithdrawal, refundBalanceTransaction, refundFailureBalanceTransaction } from './stripe-fixtures/balance-transactions';
import { cardCharge } from './stripe-fixtures/charges';
import { customerDetails, openCheckoutSession } from './stripe-fixtures/checkout-sessions';
import { dispute as disputeObject } from './stripe-fixtures/disputes';
import { CURRENT_API_VERSION, stripeEvent, type EventObject } from './stripe-fixtures/events';
import { stripeId, unixNow } from './stripe-fixtures/ids';
import { invoiceBeforeBasil, subscriptionInvoice } from './stripe-fixtures/invoices';
import { invoicePayment } from './stripe-fixtures/invoice-payments';
import { succeededPaymentIntent } from './stripe-fixtures/payment-intents';
import { cardRefund } from './stripe-fixtures/refunds';
import { addBillingMonths, monthlySubscription } from './stripe-fixtures/subscriptions';

/**
 * A local stand-in for the Stripe endpoints Haven calls, plus a stand-in hosted Checkout page.
 * A real HTTP server: Haven's SDK talks to it through STRIPE_API_HOST/PORT/PROTOCOL (see `env`).
 * Every object it answers with or puts in an event is built from the fixture corpus
 * (test/support/stripe-fixtures/, typed with the SDK's types), so the stand-in speaks Stripe's
 * shapes rather than Haven's assumptions. It records every request (with its Idempotency-Key),
 * replays the first response for a repeated key, 500s included, and refuses a key reused with
 * other parameters, as Stripe does (https://docs.stripe.com/api/idempotent_requests); it can
 * fail chosen requests (`failRequests`) to stand for an outage; and it builds webhook events
 * signed for real with stripe.webhooks.generateTestHeaderString, rendered in the endpoint's API
 * version (`setEndpointApiVersion`: invoices in an older version lose `parent`, as Stripe renders them).
 *
 * Reusable by browser tests: startStripeStandIn({ webhookUrl, webhookSecret }); Checkout
 * session urls point at GET /checkout/:id, whose Pay button sends the signed
 * checkout.session.completed (and, for subscriptions, invoice.paid) to webhookUrl and then
 * redirects to the session's success_url.
 */
export type RecordedRequest = { method: string; path: string; params: Record<string, any>; idempotencyKey: string | undefined };
type Obj = Record<string, any>;

export const STAND_IN_SECRET_KEY = 'sk_test_standin';
export const STAND_IN_WEBHOOK_SECRET = 'whsec_standin';
export const DISPUTE_FEE_CENTS = 1_500;

/** Events about one dispute, in the order Stripe sends them. */
export type DisputeEvents = { disputeId: string; events: Stripe.Event[] };

export type RequestFailure = { method?: string; path: RegExp; times: number; status?: number };

export type StripeStandIn = {
  url: string;
  port: number;
  webhookSecret: string;
  /** Environment for testConfig/createTestApp: points Haven's SDK here. */
  env: Record<string, string>;
  requests: RecordedRequest[];
  objects: Map<string, Obj>;
  /** What GET /v1/webhook_endpoints lists (npm run stripe:check reads it). */
  webhookEndpoints: Stripe.WebhookEndpoint[];
  /** Events built since the last takeEvents(), in the order Stripe would send them. */
  takeEvents(): Stripe.Event[];
  setWebhookUrl(url: string | undefined): void;
  /** The API version events are rendered in from now on (an endpoint configured on an older version). */
  setEndpointApiVersion(version: string): void;
  /** The next `times` requests matching are answered with `status` (default 500, Stripe's api_error): an outage; 429 is Stripe's rate limit. */
  failRequests(failure: RequestFailure): void;
  /**
   * The customer pays: returns checkout.session.completed, and for subscriptions the first
   * invoice.paid. `paymentStatus: 'unpaid'` is a delayed method (pre-authorised debit): the
   * session completes unpaid and the money arrives later (`settleDelayedPayment`).
   */
  completeCheckout(sessionId: string, options?: { paymentStatus?: 'paid' | 'unpaid' }): Stripe.Event[];
  /** A delayed payment clears: for a subscription, its first invoice.paid; for a one-time session, async_payment_succeeded. */
  settleDelayedPayment(sessionId: string): Stripe.Event[];
  /**
   * The next month: invoice.paid (or invoice.payment_failed); when the subscription's cancel_at
   * has come, Stripe ends it instead (customer.subscription.deleted) and bills nothing.
   * `split` pays the invoice with several invoice payments of these amounts.
   */
  renewSubscription(subscriptionId: string, outcome?: 'paid' | 'failed', options?: { split?: number[]; paidBy?: 'payment_intent' | 'charge' | 'payment_record' }): Stripe.Event;
  refundCharge(chargeId: string, amountCents?: number): Stripe.Event;
  /** A refund fails after it was reported (card closed…): refund.failed, refund.updated, charge.refund.updated. */
  failRefund(refundId: string): Stripe.Event[];
  /** An inquiry (nothing withdrawn) or a chargeback (amount and fee withdrawn): charge.dispute.created, and funds_withdrawn for a chargeback. */
  openDispute(chargeId: string, options?: { amountCents?: number; inquiry?: boolean }): DisputeEvents;
  /** An inquiry that becomes a chargeback: the funds are withdrawn now. */
  escalateInquiry(disputeId: string): Stripe.Event[];
  /** won (the amount reinstated, and the fee if `returnFee`), lost, or warning_closed (an inquiry that ends). */
  closeDispute(disputeId: string, status: 'won' | 'lost' | 'warning_closed', options?: { returnFee?: boolean }): Stripe.Event[];
  /** A lost dispute reopened on appeal and won: the amount reinstated. */
  winAppeal(disputeId: string, options?: { returnFee?: boolean }): Stripe.Event[];
  /** Signature header for a payload; `timestamp` in seconds lets tests make a stale one. */
  sign(payload: string, options?: { timestamp?: number; secret?: string }): string;
  /** POSTs signed events to webhookUrl, in order; resolves with the status codes. */
  deliver(events: Stripe.Event[]): Promise<number[]>;
  close(): Promise<void>;
};

const signer = new Stripe(STAND_IN_SECRET_KEY);

/** Stripe's card fee as the stand-in charges it: 2.9% + 30¢, rounded to the cent. */
export function standInFee(amountCents: number): number {
  return Math.floor((amountCents * 290 + 5_000) / 10_000) + 30;
}

/** Parses Stripe's form encoding (a[b][0][c]=v) into nested objects and arrays. */
function parseForm(text: string): Obj {
  const root: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let node: any = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]!);
      if (last) node[part] = value;
      else node = node[part] ??= nextIsIndex ? [] : {};
    });
  }
  return root;
}

const stripeError = (status: number, type: string, message: string, extra: Obj = {}) => ({ status, body: { error: { type, message, ...extra } } });

export async function startStripeStandIn(options: { webhookUrl?: string; webhookSecret?: string } = {}): Promise<StripeStandIn> {
  const webhookSecret = options.webhookSecret ?? STAND_IN_WEBHOOK_SECRET;
  let webhookUrl = options.webhookUrl;
  let endpointApiVersion = CURRENT_API_VERSION;
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Obj>();
  /** What each Checkout session was created with (line items, metadata for the intent or subscription). */
  const sessionRequests = new Map<string, Obj>();
  /** Invoices billed per subscription so far: the next invoice bills this period. */
  const billedPeriods = new Map<string, number>();
  const idempotent = new Map<string, { status: number; body: string; params: string }>();
  const failures: RequestFailure[] = [];
  const webhookEndpoints: Stripe.WebhookEndpoint[] = [];
  let pending: Stripe.Event[] = [];
  let base = '';

  const save = <T extends object>(o: T): T => {
    objects.set((o as { id: string }).id, o as Obj);
    return o;
  };
  const get = (id: string | undefined): Obj | undefined => (id ? objects.get(id) : undefined);

  /** An event about `object` as it is now, rendered in the endpoint's API version. */
  function event<T extends Stripe.Event.Type>(type: T, object: EventObject<T>): Stripe.Event {
    let rendered: object = object;
    if ((object as { object?: string }).object === 'invoice' && endpointApiVersion < '2025-03-31') {
      const payment = [...objects.values()].find((o) => o.object === 'invoice_payment' && o.invoice === (object as Stripe.Invoice).id);
      const intent = get(payment?.payment.payment_intent);
      rendered = invoiceBeforeBasil(object as Stripe.Invoice, { paymentIntent: intent?.id ?? null, charge: intent?.latest_charge ?? null });
    }
    const e = stripeEvent(type, rendered as EventObject<T>, { apiVersion: endpointApiVersion });
    pending.push(e);
    return e;
  }

  /** A succeeded card charge with its payment intent and balance transaction. */
  function charge(amount: number, metadata: Stripe.Metadata, customer: string | null = null) {
    const ch = cardCharge({ amount, metadata, customer });
    const txn = save(chargeBalanceTransaction(ch.id, amount, standInFee(amount)));
    const pi = save(succeededPaymentIntent({ amount, latest_charge: ch.id, metadata, customer }));
    save({ ...ch, balance_transaction: txn.id, payment_intent: pi.id });
    return { pi: pi.id, ch: ch.id };
  }

  function invoice(sub: Obj, outcome: 'paid' | 'failed', options: { split?: number[]; paidBy?: 'payment_intent' | 'charge' | 'payment_record' } = {}): Stripe.Event {
    const period = billedPeriods.get(sub.id) ?? 0;
    billedPeriods.set(sub.id, period + 1);
    const inv = save(subscriptionInvoice({ subscription: sub as Stripe.Subscription, period, outcome: outcome === 'paid' ? 'paid' : 'open' }));
    for (const item of sub.items.data) {
      item.current_period_start = addBillingMonths(sub.billing_cycle_anchor, period);
      item.current_period_end = addBillingMonths(sub.billing_cycle_anchor, period + 1);
    }
    sub.latest_invoice = inv.id;
    if (outcome === 'paid') {
      const parts = options.split ?? [inv.amount_paid];
      for (const part of parts) {
        const paidBy = options.paidBy ?? 'payment_intent';
        if (paidBy === 'payment_record') {
          save(invoicePayment({ invoice: inv.id, amount_paid: part, payment: { type: 'payment_record', payment_record: stripeId('prec') }, is_default: parts.length === 1 }));
          continue;
        }
        const { pi, ch } = charge(part, {}, sub.customer);
        save(invoicePayment({ invoice: inv.id, amount_paid: part, payment: paidBy === 'charge' ? { type: 'charge', charge: ch } : { type: 'payment_intent', payment_intent: pi }, is_default: parts.length === 1 }));
      }
    }
    return event(outcome === 'paid' ? 'invoice.paid' : 'invoice.payment_failed', inv);
  }

  function completeCheckout(sessionId: string, { paymentStatus = 'paid' }: { paymentStatus?: 'paid' | 'unpaid' } = {}): Stripe.Event[] {
    const session = get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    const created = sessionRequests.get(sessionId) ?? {};
    const customer = stripeId('cus');
    Object.assign(session, { customer, status: 'complete', customer_details: customerDetails(session.customer_email) });
    const before = pending.length;
    if (session.mode === 'subscription') {
      const item = created.line_items?.[0];
      const sub = save(monthlySubscription({ customer, unitAmount: Number(item?.price_data?.unit_amount ?? session.amount_total), metadata: created.subscription_data?.metadata ?? {} }));
      session.subscription = sub.id;
      session.payment_status = paymentStatus;
      event('checkout.session.completed', session as Stripe.Checkout.Session);
      if (paymentStatus === 'paid') invoice(sub, 'paid');
    } else {
      const { pi } = charge(session.amount_total, created.payment_intent_data?.metadata ?? {});
      session.payment_intent = pi;
      session.payment_status = paymentStatus;
      event('checkout.session.completed', session as Stripe.Checkout.Session);
    }
    return pending.slice(before);
  }

  function settleDelayedPayment(sessionId: string): Stripe.Event[] {
    const session = get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    session.payment_status = 'paid';
    if (session.mode === 'subscription') return [invoice(get(session.subscription)!, 'paid')];
    return [event('checkout.session.async_payment_succeeded', session as Stripe.Checkout.Session)];
  }

  function renewSubscription(subscriptionId: string, outcome: 'paid' | 'failed' = 'paid', options: { split?: number[]; paidBy?: 'payment_intent' | 'charge' | 'payment_record' } = {}): Stripe.Event {
    const sub = get(subscriptionId);
    if (!sub) throw new Error(`no subscription ${subscriptionId}`);
    if (sub.status === 'canceled') throw new Error(`subscription ${subscriptionId} was cancelled: Stripe bills nothing more`);
    const nextStart = addBillingMonths(sub.billing_cycle_anchor, billedPeriods.get(sub.id) ?? 0);
    if (sub.cancel_at !== null && nextStart >= sub.cancel_at) {
      // The subscription ends at cancel_at by itself: no further invoice (https://docs.stripe.com/api/subscriptions/object#subscription_object-cancel_at).
      Object.assign(sub, { status: 'canceled', canceled_at: sub.cancel_at, ended_at: sub.cancel_at });
      return event('customer.subscription.deleted', sub as Stripe.Subscription);
    }
    return invoice(sub, outcome, options);
  }

  function refundCharge(chargeId: string, amountCents?: number, extra: Partial<Stripe.Refund> = {}): Stripe.Event {
    const ch = get(chargeId);
    if (!ch) throw new Error(`no charge ${chargeId}`);
    const amount = amountCents ?? ch.amount - ch.amount_refunded;
    const refund = cardRefund({ amount, charge: ch.id, payment_intent: ch.payment_intent, ...extra });
    save({ ...refund, balance_transaction: save(refundBalanceTransaction(refund.id, amount)).id });
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded === ch.amount;
    return event('charge.refunded', ch as Stripe.Charge);
  }

  function failRefund(refundId: string): Stripe.Event[] {
    const refund = get(refundId);
    if (!refund) throw new Error(`no refund ${refundId}`);
    const ch = get(refund.charge)!;
    Object.assign(refund, { status: 'failed', failure_reason: 'expired_or_canceled_card', failure_balance_transaction: save(refundFailureBalanceTransaction(refund.id, refund.amount)).id });
    ch.amount_refunded -= refund.amount;
    ch.refunded = false;
    return [event('refund.failed', refund as Stripe.Refund), event('refund.updated', refund as Stripe.Refund), event('charge.refund.updated', refund as Stripe.Refund)];
  }

  function withdraw(dp: Obj): Stripe.Event {
    dp.balance_transactions.push(disputeWithdrawal(dp.id, dp.amount, DISPUTE_FEE_CENTS));
    dp.is_charge_refundable = false;
    return event('charge.dispute.funds_withdrawn', dp as Stripe.Dispute);
  }

  function reinstate(dp: Obj, returnFee: boolean): Stripe.Event {
    dp.balance_transactions.push(disputeReinstatement(dp.id, dp.amount, returnFee ? DISPUTE_FEE_CENTS : 0));
    return event('charge.dispute.funds_reinstated', dp as Stripe.Dispute);
  }

  function openDispute(chargeId: string, { amountCents, inquiry = false }: { amountCents?: number; inquiry?: boolean } = {}): DisputeEvents {
    const ch = get(chargeId);
    if (!ch) throw new Error(`no charge ${chargeId}`);
    ch.disputed = true;
    const dp = save(disputeObject({ amount: amountCents ?? ch.amount - ch.amount_refunded, charge: ch.id, payment_intent: ch.payment_intent, status: inquiry ? 'warning_needs_response' : 'needs_response' }));
    if (inquiry) return { disputeId: dp.id, events: [event('charge.dispute.created', dp)] };
    // A chargeback withdraws at once: the created event already lists the withdrawal, and funds_withdrawn follows.
    dp.balance_transactions.push(disputeWithdrawal(dp.id, dp.amount, DISPUTE_FEE_CENTS));
    dp.is_charge_refundable = false;
    return { disputeId: dp.id, events: [event('charge.dispute.created', dp), event('charge.dispute.funds_withdrawn', dp)] };
  }

  function escalateInquiry(disputeId: string): Stripe.Event[] {
    const dp = get(disputeId);
    if (!dp) throw new Error(`no dispute ${disputeId}`);
    dp.status = 'needs_response';
    dp.payment_method_details.card.case_type = 'chargeback';
    return [event('charge.dispute.updated', dp as Stripe.Dispute), withdraw(dp)];
  }

  function closeDispute(disputeId: string, status: 'won' | 'lost' | 'warning_closed', { returnFee = false }: { returnFee?: boolean } = {}): Stripe.Event[] {
    const dp = get(disputeId);
    if (!dp) throw new Error(`no dispute ${disputeId}`);
    dp.status = status;
    if (status !== 'won') return [event('charge.dispute.closed', dp as Stripe.Dispute)];
    const reinstated = reinstate(dp, returnFee);
    return [event('charge.dispute.closed', dp as Stripe.Dispute), reinstated];
  }

  function winAppeal(disputeId: string, { returnFee = false }: { returnFee?: boolean } = {}): Stripe.Event[] {
    const dp = get(disputeId);
    if (!dp) throw new Error(`no dispute ${disputeId}`);
    dp.status = 'appeal_under_review';
    const appealed = event('charge.dispute.updated', dp as Stripe.Dispute);
    dp.status = 'won';
    const reinstated = reinstate(dp, returnFee);
    return [appealed, event('charge.dispute.closed', dp as Stripe.Dispute), reinstated];
  }

  function sign(payload: string, opts: { timestamp?: number; secret?: string } = {}): string {
    return signer.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? webhookSecret, timestamp: opts.timestamp ?? unixNow() });
  }

  async function deliver(events: Stripe.Event[]): Promise<number[]> {
    if (!webhookUrl) throw new Error('the stand-in has no webhookUrl to deliver to');
    const statuses: number[] = [];
    for (const e of events) {
      const payload = JSON.stringify(e);
      const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload) }, body: payload });
      statuses.push(response.status);
    }
    pending = pending.filter((e) => !events.includes(e));
    return statuses;
  }

  // --- the API ------------------------------------------------------------------------------
  function api(method: string, path: string, params: Obj): { status: number; body: Obj } {
    const notFound = (id: string, kind = 'object') => stripeError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param: 'id' });
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const lineItems = (params.line_items ?? []) as Obj[];
      const amount = lineItems.reduce((sum, li) => sum + Number(li.price_data?.unit_amount ?? 0) * Number(li.quantity ?? 1), 0);
      const session = openCheckoutSession({
        mode: params.mode,
        amount_total: amount,
        customer_email: params.customer_email ?? null,
        client_reference_id: params.client_reference_id ?? null,
        metadata: params.metadata ?? {},
        success_url: params.success_url,
        cancel_url: params.cancel_url,
        locale: params.locale ?? null,
        submit_type: params.submit_type ?? null,
      });
      save({ ...session, url: `${base}/checkout/${session.id}` });
      sessionRequests.set(session.id, params);
      return { status: 200, body: get(session.id)! };
    }
    // Billing Portal (Stripe.BillingPortal.Session): a donor updates the card behind a monthly gift.
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const customer = params.customer as string | undefined;
      if (!customer || ![...objects.values()].some((o) => o.object === 'subscription' && o.customer === customer)) return notFound(customer ?? 'customer');
      const id = stripeId('bps');
      const portal = save(billingPortalSession({ id, customer, locale: params.locale ?? null, return_url: params.return_url ?? null, url: `${base}/billing/${id}` }));
      return { status: 200, body: portal };
    }
    if (method === 'GET' && (m = /^\/v1\/checkout\/sessions\/([\w]+)$/.exec(path))) {
      const s = get(m[1]);
      return s ? { status: 200, body: s } : notFound(m[1]!, 'checkout.session');
    }
    if (method === 'GET' && (m = /^\/v1\/payment_intents\/([\w]+)$/.exec(path))) {
      const pi = get(m[1]);
      if (!pi) return notFound(m[1]!, 'payment_intent');
      const expand: string[] = Object.values(params.expand ?? {});
      const body = structuredClone(pi);
      if (expand.some((e) => e.startsWith('latest_charge'))) {
        body.latest_charge = structuredClone(get(pi.latest_charge));
        if (expand.includes('latest_charge.balance_transaction')) body.latest_charge.balance_transaction = get(body.latest_charge.balance_transaction);
      }
      return { status: 200, body };
    }
    if (method === 'GET' && (m = /^\/v1\/charges\/([\w]+)$/.exec(path))) {
      const ch = get(m[1]);
      if (!ch) return notFound(m[1]!, 'charge');
      const body = structuredClone(ch);
      if (Object.values(params.expand ?? {}).includes('balance_transaction')) body.balance_transaction = get(ch.balance_transaction);
      return { status: 200, body };
    }
    if (method === 'GET' && (m = /^\/v1\/(balance_transactions|subscriptions|invoices|refunds|disputes|payouts)\/([\w]+)$/.exec(path))) {
      const o = get(m[2]);
      return o ? { status: 200, body: o } : notFound(m[2]!, m[1]!.replace(/s$/, ''));
    }
    if (method === 'GET' && path === '/v1/invoice_payments') {
      const data = [...objects.values()].filter((o) => o.object === 'invoice_payment' && o.invoice === params.invoice && (!params.status || o.status === params.status));
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/invoice_payments' } };
    }
    if (method === 'GET' && path === '/v1/refunds') {
      const data = [...objects.values()].filter((o) => o.object === 'refund' && (!params.charge || o.charge === params.charge)).reverse();
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/refunds' } };
    }
    if (method === 'GET' && path === '/v1/webhook_endpoints') {
      return { status: 200, body: { object: 'list', data: webhookEndpoints, has_more: false, url: '/v1/webhook_endpoints' } };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const ch = get(params.charge);
      if (!ch) return notFound(String(params.charge), 'charge');
      const amount = params.amount ? Number(params.amount) : ch.amount - ch.amount_refunded;
      if (amount > ch.amount - ch.amount_refunded) {
        return stripeError(400, 'invalid_request_error', `Refund amount ($${amount / 100}) is greater than unrefunded amount on charge ($${(ch.amount - ch.amount_refunded) / 100})`, { code: 'amount_too_large', param: 'amount' });
      }
      const open = [...objects.values()].find((o) => o.object === 'dispute' && o.charge === ch.id && !o.is_charge_refundable && !['won', 'lost', 'warning_closed'].includes(o.status));
      if (open) return stripeError(400, 'invalid_request_error', `Charge ${ch.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed' });
      const e = refundCharge(ch.id, amount, { metadata: params.metadata ?? {}, reason: params.reason ?? null });
      void autoDeliver([e]);
      const refund = [...objects.values()].filter((o) => o.object === 'refund' && o.charge === ch.id).pop()!;
      return { status: 200, body: refund };
    }
    if (method === 'POST' && (m = /^\/v1\/subscriptions\/([\w]+)$/.exec(path))) {
      const sub = get(m[1]);
      if (!sub || sub.status === 'canceled') return notFound(m[1]!, 'subscription');
      if (params.cancel_at !== undefined) sub.cancel_at = params.cancel_at === '' ? null : Number(params.cancel_at);
      if (params.metadata) sub.metadata = { ...sub.metadata, ...params.metadata };
      void autoDeliver([event('customer.subscription.updated', sub as Stripe.Subscription)]);
      return { status: 200, body: sub };
    }
    if (method === 'DELETE' && (m = /^\/v1\/subscriptions\/([\w]+)$/.exec(path))) {
      const sub = get(m[1]);
      // A cancelled subscription is "akin to being deleted": cancelling it again is resource_missing
      // (Stripe's answer in https://github.com/stripe/stripe-go/issues/1887).
      if (!sub || sub.status === 'canceled') return notFound(m[1]!, 'subscription');
      Object.assign(sub, { status: 'canceled', canceled_at: unixNow(), ended_at: unixNow() });
      void autoDeliver([event('customer.subscription.deleted', sub as Stripe.Subscription)]);
      return { status: 200, body: sub };
    }
    return stripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path})`);
  }

  async function autoDeliver(events: Stripe.Event[]) {
    if (!webhookUrl) return;
    await new Promise((r) => setImmediate(r));
    await deliver(events).catch(() => undefined);
  }

  /** An injected outage: Stripe's api_error, with stripe-should-retry: false (as Stripe sends on a 500). */
  function injectedFailure(method: string, path: string): { status: number; body: Obj } | undefined {
    const failure = failures.find((f) => f.times > 0 && (!f.method || f.method === method) && f.path.test(path));
    if (!failure) return undefined;
    failure.times -= 1;
    // Stripe's rate limiter answers 429 with code rate_limit (https://docs.stripe.com/rate-limits; the SDK's generateV1Error).
    if (failure.status === 429) return stripeError(429, 'invalid_request_error', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', { code: 'rate_limit' });
    return stripeError(failure.status ?? 500, 'api_error', 'An unknown error occurred (stand-in outage).');
  }

  // --- the hosted Checkout page -----------------------------------------------------------------
  async function checkoutPage(_req: IncomingMessage, res: ServerResponse, id: string, pay: boolean) {
    const session = get(id);
    if (!session) return send(res, 404, 'text/plain', 'No such checkout session');
    if (!pay) {
      const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in Checkout</title></head><body><main>
<h1>Stand-in Checkout</h1><p>Amount: <span id="amount">${(session.amount_total / 100).toFixed(2)}</span> CAD${session.mode === 'subscription' ? ' per month' : ''}</p>
<form method="post" action="/checkout/${id}/pay"><button type="submit">Pay</button></form>
<p><a href="${session.cancel_url}">Cancel</a></p></main></body></html>`;
      return send(res, 200, 'text/html; charset=utf-8', html);
    }
    if (session.status !== 'complete') {
      const events = completeCheckout(id);
      if (webhookUrl) await deliver(events);
    }
    res.writeHead(303, { location: String(session.success_url).replace('{CHECKOUT_SESSION_ID}', id) });
    res.end();
  }

  function send(res: ServerResponse, status: number, type: string, body: string) {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://stand-in');
        const method = req.method ?? 'GET';
        const portal = /^\/billing\/([\w]+)$/.exec(url.pathname);
        if (portal) {
          // The hosted Billing Portal, reduced to its way back.
          const session = get(portal[1]);
          if (!session) return send(res, 404, 'text/plain', 'no such portal session');
          const back = String(session.return_url ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
          return send(res, 200, 'text/html; charset=utf-8', `<!doctype html><html lang="en"><head><title>Stand-in Billing Portal</title></head><body><main><h1>Billing Portal (stand-in)</h1><p>Customer ${session.customer}</p><p><a href="${back}">Return to HanVoice</a></p></main></body></html>`);
        }
        const page = /^\/checkout\/([\w]+)(\/pay)?$/.exec(url.pathname);
        // The Pay button posts to /checkout/:id/pay; a POST to /checkout/:id pays too.
        if (page) return checkoutPage(req, res, page[1]!, method === 'POST');
        const rawParams = method === 'GET' || method === 'DELETE' ? url.search.slice(1) : Buffer.concat(chunks).toString('utf8');
        const params = parseForm(rawParams);
        const key = req.headers['idempotency-key'] as string | undefined;
        requests.push({ method, path: url.pathname, params, idempotencyKey: key });
        if (req.headers.authorization !== `Bearer ${STAND_IN_SECRET_KEY}`) {
          return send(res, 401, 'application/json', JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }));
        }
        const cacheKey = key ? `${method} ${url.pathname} ${key}` : undefined;
        const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
        if (cached) {
          if (cached.params !== rawParams) {
            const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;
            return send(res, 400, 'application/json', JSON.stringify({ error: { type: 'idempotency_error', message } }));
          }
          res.writeHead(cached.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true', 'stripe-should-retry': 'false' });
          return res.end(cached.body);
        }
        const { status, body } = injectedFailure(method, url.pathname) ?? api(method, url.pathname, params);
        const text = JSON.stringify(body);
        // Stripe keeps the first answer for a key, 500s included (https://docs.stripe.com/api/idempotent_requests).
        if (cacheKey) idempotent.set(cacheKey, { status, body: text, params: rawParams });
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': stripeId('req'), ...(status >= 500 ? { 'stripe-should-retry': 'false' } : {}) });
        res.end(text);
      })().catch((error: unknown) => send(res, 500, 'text/plain', String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    port,
    webhookSecret,
    env: { STRIPE_SECRET_KEY: STAND_IN_SECRET_KEY, STRIPE_WEBHOOK_SECRET: webhookSecret, STRIPE_API_HOST: '127.0.0.1', STRIPE_API_PORT: String(port), STRIPE_API_PROTOCOL: 'http' },
    requests,
    objects,
    webhookEndpoints,
    takeEvents() {
      const taken = pending;
      pending = [];
      return taken;
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    setEndpointApiVersion(version) {
      endpointApiVersion = version;
    },
    failRequests(failure) {
      failures.push({ ...failure });
    },
    completeCheckout,
    settleDelayedPayment,
    renewSubscription,
    refundCharge: (chargeId, amountCents) => refundCharge(chargeId, amountCents),
    failRefund,
    openDispute,
    escalateInquiry,
    closeDispute,
    winAppeal,
    sign,
    deliver,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
