import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local stand-in for the few Stripe endpoints Haven calls, shaped like Stripe's documented
 * responses, plus a stand-in hosted Checkout page. A real HTTP server: Haven's SDK talks to it
 * through STRIPE_API_HOST/PORT/PROTOCOL (see `stripeEnv`). It records every request (with its
 * Idempotency-Key, and replays the first response for a repeated key as Stripe does) and builds
 * webhook events signed for real with stripe.webhooks.generateTestHeaderString.
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

export type StripeStandIn = {
  url: string;
  port: number;
  webhookSecret: string;
  /** Environment for testConfig/createTestApp: points Haven's SDK here. */
  env: Record<string, string>;
  requests: RecordedRequest[];
  objects: Map<string, Obj>;
  /** Events built since the last takeEvents(), in the order Stripe would send them. */
  takeEvents(): Stripe.Event[];
  setWebhookUrl(url: string | undefined): void;
  /** The customer pays: returns checkout.session.completed, and for subscriptions the first invoice.paid. */
  completeCheckout(sessionId: string): Stripe.Event[];
  /** Another month's invoice: invoice.paid, or invoice.payment_failed. */
  renewSubscription(subscriptionId: string, outcome?: 'paid' | 'failed'): Stripe.Event;
  refundCharge(chargeId: string, amountCents?: number): Stripe.Event;
  openDispute(chargeId: string, amountCents?: number): Stripe.Event;
  closeDispute(disputeId: string, status: 'won' | 'lost'): Stripe.Event;
  /** Signature header for a payload; `timestamp` in seconds lets tests make a stale one. */
  sign(payload: string, options?: { timestamp?: number; secret?: string }): string;
  /** POSTs signed events to webhookUrl, in order; resolves with the status codes. */
  deliver(events: Stripe.Event[]): Promise<number[]>;
  close(): Promise<void>;
};

const signer = new Stripe(STAND_IN_SECRET_KEY);

function newId(prefix: string): string {
  return `${prefix}_test_${randomBytes(9).toString('hex')}`;
}

/** Stripe's card fee as the stand-in charges it: 2.9% + 30¢, rounded to the cent. */
export function standInFee(amountCents: number): number {
  return Math.floor((amountCents * 290 + 5_000) / 10_000) + 30;
}
export const DISPUTE_FEE_CENTS = 1_500;

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

export async function startStripeStandIn(options: { webhookUrl?: string; webhookSecret?: string } = {}): Promise<StripeStandIn> {
  const webhookSecret = options.webhookSecret ?? STAND_IN_WEBHOOK_SECRET;
  let webhookUrl = options.webhookUrl;
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Obj>();
  const idempotent = new Map<string, { status: number; body: string }>();
  let pending: Stripe.Event[] = [];
  const now = () => Math.floor(Date.now() / 1000);
  let base = '';

  const save = <T extends Obj>(o: T): T => {
    objects.set(o.id, o);
    return o;
  };
  const get = (id: string | undefined): Obj | undefined => (id ? objects.get(id) : undefined);

  function event(type: string, object: Obj): Stripe.Event {
    const e = {
      id: newId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: now(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    } as unknown as Stripe.Event;
    pending.push(e);
    return e;
  }

  /** A succeeded card charge with its payment intent and balance transaction. */
  function charge(amount: number, metadata: Obj) {
    const pi = newId('pi');
    const ch = newId('ch');
    const txn = newId('txn');
    const fee = standInFee(amount);
    save({ id: txn, object: 'balance_transaction', amount, fee, net: amount - fee, currency: 'cad', type: 'charge', source: ch, status: 'available', fee_details: [{ amount: fee, currency: 'cad', type: 'stripe_fee', description: 'Stripe processing fees' }], created: now() });
    save({ id: ch, object: 'charge', amount, amount_captured: amount, amount_refunded: 0, currency: 'cad', paid: true, captured: true, refunded: false, disputed: false, status: 'succeeded', payment_intent: pi, balance_transaction: txn, metadata, created: now(), livemode: false });
    save({ id: pi, object: 'payment_intent', amount, amount_received: amount, currency: 'cad', status: 'succeeded', latest_charge: ch, metadata, created: now(), livemode: false });
    return { pi, ch };
  }

  function invoice(subscription: Obj, outcome: 'paid' | 'failed', reason: string): Stripe.Event {
    const amount = subscription.items.data[0].price.unit_amount as number;
    const inv = save({
      id: newId('in'), object: 'invoice', status: outcome === 'paid' ? 'paid' : 'open', amount_due: amount, amount_paid: outcome === 'paid' ? amount : 0,
      amount_remaining: outcome === 'paid' ? 0 : amount, currency: 'cad', customer: subscription.customer, billing_reason: reason, metadata: {},
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: subscription.metadata, subscription: subscription.id } },
      created: now(), livemode: false,
    });
    if (outcome === 'paid') {
      const { pi } = charge(amount, {});
      save({ id: newId('inpay'), object: 'invoice_payment', invoice: inv.id, amount_paid: amount, amount_requested: amount, currency: 'cad', is_default: true, status: 'paid', payment: { type: 'payment_intent', payment_intent: pi }, created: now(), livemode: false });
    }
    return event(outcome === 'paid' ? 'invoice.paid' : 'invoice.payment_failed', inv);
  }

  function completeCheckout(sessionId: string): Stripe.Event[] {
    const session = get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    const customer = newId('cus');
    session.customer = customer;
    session.status = 'complete';
    const before = pending.length;
    if (session.mode === 'subscription') {
      const item = session.line_items[0];
      const sub = save({
        id: newId('sub'), object: 'subscription', status: 'active', customer, metadata: session.subscription_data?.metadata ?? {},
        items: { object: 'list', data: [{ id: newId('si'), object: 'subscription_item', quantity: 1, price: { id: newId('price'), object: 'price', currency: 'cad', unit_amount: Number(item.price_data.unit_amount), recurring: { interval: 'month', interval_count: 1 } } }] },
        created: now(), livemode: false,
      });
      session.subscription = sub.id;
      session.payment_status = 'paid';
      event('checkout.session.completed', session);
      invoice(sub, 'paid', 'subscription_create');
    } else {
      const { pi } = charge(session.amount_total, session.payment_intent_data?.metadata ?? {});
      session.payment_intent = pi;
      session.payment_status = 'paid';
      event('checkout.session.completed', session);
    }
    return pending.slice(before);
  }

  function refundCharge(chargeId: string, amountCents?: number): Stripe.Event {
    const ch = get(chargeId);
    if (!ch) throw new Error(`no charge ${chargeId}`);
    const amount = amountCents ?? ch.amount - ch.amount_refunded;
    save({ id: newId('re'), object: 'refund', amount, charge: ch.id, payment_intent: ch.payment_intent, currency: 'cad', status: 'succeeded', created: now() });
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded === ch.amount;
    return event('charge.refunded', ch);
  }

  function dispute(chargeId: string, amountCents?: number): Stripe.Event {
    const ch = get(chargeId);
    if (!ch) throw new Error(`no charge ${chargeId}`);
    const amount = amountCents ?? ch.amount;
    ch.disputed = true;
    const dp = save({
      id: newId('dp'), object: 'dispute', amount, charge: ch.id, payment_intent: ch.payment_intent, currency: 'cad', status: 'needs_response', reason: 'fraudulent',
      balance_transactions: [{ id: newId('txn'), object: 'balance_transaction', amount: -amount, fee: DISPUTE_FEE_CENTS, net: -amount - DISPUTE_FEE_CENTS, currency: 'cad', type: 'adjustment', reporting_category: 'dispute' }],
      created: now(), livemode: false,
    });
    return event('charge.dispute.created', dp);
  }

  function closeDispute(disputeId: string, status: 'won' | 'lost'): Stripe.Event {
    const dp = get(disputeId);
    if (!dp) throw new Error(`no dispute ${disputeId}`);
    dp.status = status;
    if (status === 'won') dp.balance_transactions.push({ id: newId('txn'), object: 'balance_transaction', amount: dp.amount, fee: 0, net: dp.amount, currency: 'cad', type: 'adjustment', reporting_category: 'dispute_reversal' });
    return event('charge.dispute.closed', dp);
  }

  function sign(payload: string, opts: { timestamp?: number; secret?: string } = {}): string {
    return signer.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? webhookSecret, timestamp: opts.timestamp ?? now() });
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
    const notFound = (id: string) => ({ status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such object: '${id}'`, param: 'id' } } });
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const lineItems = (params.line_items ?? []) as Obj[];
      const amount = lineItems.reduce((sum, li) => sum + Number(li.price_data?.unit_amount ?? 0) * Number(li.quantity ?? 1), 0);
      const id = newId('cs');
      const session = save({
        id, object: 'checkout.session', mode: params.mode, status: 'open', payment_status: 'unpaid', amount_total: amount, amount_subtotal: amount, currency: 'cad',
        customer: null, customer_email: params.customer_email ?? null, client_reference_id: params.client_reference_id ?? null, metadata: params.metadata ?? {},
        payment_intent: null, subscription: null, success_url: params.success_url, cancel_url: params.cancel_url, locale: params.locale ?? null,
        url: `${base}/checkout/${id}`, created: now(), expires_at: now() + 86_400, livemode: false,
        line_items: lineItems, payment_intent_data: params.payment_intent_data, subscription_data: params.subscription_data,
      });
      return { status: 200, body: publicView(session) };
    }
    // Billing Portal (Stripe.BillingPortal.Session): a donor updates the card behind a monthly gift.
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const customer = params.customer as string | undefined;
      if (!customer || ![...objects.values()].some((o) => o.object === 'subscription' && o.customer === customer)) return notFound(customer ?? 'customer');
      const id = newId('bps');
      const portal = save({
        id, object: 'billing_portal.session', configuration: 'bpc_test_standin', created: now(), customer, customer_account: null, flow: null, livemode: false,
        locale: params.locale ?? null, on_behalf_of: null, return_url: params.return_url ?? null, url: `${base}/billing/${id}`,
      });
      return { status: 200, body: portal };
    }
    if (method === 'GET' && (m = /^\/v1\/checkout\/sessions\/([\w]+)$/.exec(path))) {
      const s = get(m[1]);
      return s ? { status: 200, body: publicView(s) } : notFound(m[1]!);
    }
    if (method === 'GET' && (m = /^\/v1\/payment_intents\/([\w]+)$/.exec(path))) {
      const pi = get(m[1]);
      if (!pi) return notFound(m[1]!);
      const expand: string[] = Object.values(params.expand ?? {});
      const body = structuredClone(pi);
      if (expand.some((e) => e.startsWith('latest_charge'))) {
        body.latest_charge = structuredClone(get(pi.latest_charge));
        if (expand.includes('latest_charge.balance_transaction')) body.latest_charge.balance_transaction = get(body.latest_charge.balance_transaction);
      }
      return { status: 200, body };
    }
    if (method === 'GET' && (m = /^\/v1\/(balance_transactions|charges|subscriptions|invoices|refunds|disputes)\/([\w]+)$/.exec(path))) {
      const o = get(m[2]);
      return o ? { status: 200, body: o } : notFound(m[2]!);
    }
    if (method === 'GET' && path === '/v1/invoice_payments') {
      const data = [...objects.values()].filter((o) => o.object === 'invoice_payment' && o.invoice === params.invoice && (!params.status || o.status === params.status));
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/invoice_payments' } };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const ch = get(params.charge);
      if (!ch) return notFound(String(params.charge));
      const amount = params.amount ? Number(params.amount) : ch.amount - ch.amount_refunded;
      if (amount > ch.amount - ch.amount_refunded) {
        return { status: 400, body: { error: { type: 'invalid_request_error', code: 'amount_too_large', message: `Refund amount ($${amount / 100}) is greater than unrefunded amount on charge` } } };
      }
      const e = refundCharge(ch.id, amount);
      void autoDeliver([e]);
      const refund = [...objects.values()].filter((o) => o.object === 'refund' && o.charge === ch.id).pop()!;
      refund.metadata = params.metadata ?? {};
      refund.reason = params.reason ?? null;
      return { status: 200, body: refund };
    }
    if (method === 'DELETE' && (m = /^\/v1\/subscriptions\/([\w]+)$/.exec(path))) {
      const sub = get(m[1]);
      if (!sub) return notFound(m[1]!);
      if (sub.status === 'canceled') {
        return { status: 400, body: { error: { type: 'invalid_request_error', message: `No such subscription: '${sub.id}'`, code: 'resource_missing' } } };
      }
      sub.status = 'canceled';
      sub.canceled_at = now();
      void autoDeliver([event('customer.subscription.deleted', sub)]);
      return { status: 200, body: sub };
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } } };
  }

  async function autoDeliver(events: Stripe.Event[]) {
    if (!webhookUrl) return;
    await new Promise((r) => setImmediate(r));
    await deliver(events).catch(() => undefined);
  }

  function publicView(session: Obj): Obj {
    const { line_items: _l, payment_intent_data: _p, subscription_data: _s, ...rest } = session;
    return rest;
  }

  // --- the hosted Checkout page -----------------------------------------------------------------
  async function checkoutPage(req: IncomingMessage, res: ServerResponse, id: string, pay: boolean) {
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
        const params = method === 'GET' || method === 'DELETE' ? parseForm(url.search.slice(1)) : parseForm(Buffer.concat(chunks).toString('utf8'));
        const key = req.headers['idempotency-key'] as string | undefined;
        requests.push({ method, path: url.pathname, params, idempotencyKey: key });
        if (req.headers.authorization !== `Bearer ${STAND_IN_SECRET_KEY}`) {
          return send(res, 401, 'application/json', JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }));
        }
        const cacheKey = key ? `${method} ${url.pathname} ${key}` : undefined;
        const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
        if (cached) {
          res.writeHead(cached.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
          return res.end(cached.body);
        }
        const { status, body } = api(method, url.pathname, params);
        const text = JSON.stringify(body);
        if (cacheKey) idempotent.set(cacheKey, { status, body: text });
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req') });
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
    takeEvents() {
      const taken = pending;
      pending = [];
      return taken;
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    completeCheckout,
    renewSubscription(subscriptionId, outcome = 'paid') {
      const sub = get(subscriptionId);
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      return invoice(sub, outcome, 'subscription_cycle');
    },
    refundCharge,
    openDispute: dispute,
    closeDispute,
    sign,
    deliver,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
