import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { accountRoutes } from './accounts/routes';
import { securityRoutes } from './accounts/security-routes';
import { loadSession, SESSION_COOKIE } from './accounts/sessions';
import { staffAccountRoutes } from './accounts/staff-routes';
import { auditRoutes } from './audit/routes';
import { campaignRoutes } from './campaign/routes';
import { loadFamilyKeyring } from './families/data-keys';
import { privacyRoutes } from './families/privacy-routes';
import { familyRoutes } from './families/routes';
import { charityCalendar } from './calendar/charity-calendar';
import type { AppDeps } from './app-deps';
import type { Config } from './config';
import { dashboardRoutes } from './dashboard/routes';
import { groupRoutes } from './groups/routes';
import { staffGroupRoutes } from './groups/staff-routes';
import { healthRoutes } from './health/routes';
import { csrfProtection } from './http/csrf';
import { doneNotice } from './http/done-notice';
import { handleErrors, notFound } from './http/errors';
import { rejectNulBytes } from './http/input-guard';
import { requestLog } from './http/request-log';
import { staticAssets } from './http/static-assets';
import { permissionsPolicy, privateWhenSignedIn } from './http/security-headers';
import { configureViews } from './http/views';
import { donorPageRoutes } from './giving/donor-page-routes';
import { givingRoutes } from './giving/routes';
import { staffDonorRoutes } from './giving/staff-donor-routes';
import { staffGivingRoutes } from './giving/staff-routes';
import { createStripe } from './giving/stripe-client';
import { stripeWebhookRoutes } from './giving/webhook-routes';
import { chooseLocale } from './i18n/locale';
import { jobRoutes } from './jobs/routes';
import { matchingRoutes } from './matching/routes';
import { PUBLIC_DIR, WEBAUTHN_BROWSER_DIR } from './paths';
import { receiptRoutes } from './receipts/routes';
import { reportRoutes } from './reports/routes';
import { scheduleRoutes } from './schedules/routes';
import { siteRoutes } from './site/routes';

export type { AppDeps } from './app-deps';

/** Where the giving form may send a donor: Stripe Checkout, or the configured stand-in (tests, stripe-mock). */
function checkoutOrigins(config: Config): string[] {
  const stripe = config.stripe;
  if (!stripe) return [];
  if (!stripe.apiHost) return ['https://checkout.stripe.com'];
  return [`${stripe.apiProtocol ?? 'https'}://${stripe.apiHost}${stripe.apiPort ? `:${stripe.apiPort}` : ''}`];
}

/** Builds the Express application; main.ts listens, tests mount it with Supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Pages carry a per-visitor CSRF token, so an ETag would never match: computing one (a SHA-1 of every answer) is waste.
  app.set('etag', false);
  // TRUST_PROXY (default false): req.ip, and so every per-IP limit, is the socket's address unless a configured proxy says otherwise.
  app.set('trust proxy', deps.config.trustProxy);
  configureViews(app);

  app.use(requestLog(deps.logger, { skip: (path) => path === '/healthz' || path.startsWith('/static/') }));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          // The giving form's answer is a redirect to Stripe Checkout, and browsers apply
          // form-action to where a form's redirects lead (Chromium blocked the card gift in the e2e).
          formAction: ["'self'", ...checkoutOrigins(deps.config)],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: deps.config.publicUrl.startsWith('https:') ? [] : null,
        },
      },
      strictTransportSecurity: deps.config.publicUrl.startsWith('https:'),
    }),
  );
  app.use(permissionsPolicy);
  const assets = staticAssets(PUBLIC_DIR, { production: deps.config.env === 'production' });
  app.use('/static', assets.serve);
  // The layout's stylesheet and icon URLs, for every page rendered from here on (error pages included).
  app.use((_req, res, next) => {
    res.locals.assets = assets.urls;
    next();
  });
  // The WebAuthn browser helper, served from Haven itself (the CSP allows no other script origin, and no inline script).
  app.use('/static/vendor/simplewebauthn', express.static(WEBAUTHN_BROWSER_DIR, { maxAge: deps.config.env === 'production' ? '1d' : 0, index: false }));
  app.use(healthRoutes(deps.db));
  // Stripe webhooks need the raw body for their signature: before any body parser.
  const calendar = charityCalendar(deps.config.charityTimeZone, deps.clock);
  const giving = { db: deps.db, readDb: deps.readDb, config: deps.config, stripe: createStripe(deps.config.stripe), calendar, logger: deps.logger };
  app.use(stripeWebhookRoutes({ ...giving, stripeEvents: deps.stripeEvents }));

  app.use(cookieParser());
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 200 }));
  app.use(express.json({ limit: '32kb' }));
  app.use(chooseLocale(deps.config));
  app.use(rejectNulBytes);
  app.use(doneNotice);
  app.use((req, res, next) => {
    res.locals.currentPath = req.path;
    // The header's Give button: on the public pages, not on /give itself nor in the staff and group workspaces.
    res.locals.headerGive = req.path !== '/give' && !/^\/(staff|group)(\/|$)/.test(req.path);
    // Absolute links in share tags (views/partials/share-meta.hbs) and e-mails.
    res.locals.publicUrl = deps.config.publicUrl;
    // The footer and contact page: the charity's CRA number and where people write.
    res.locals.charity = { name: deps.config.charity.name, registrationNumber: deps.config.charity.registrationNumber, address: deps.config.charity.address };
    res.locals.contact = deps.config.contact;
    // The {{timeAgo}} helper tells "2 hours ago" against this (the app's clock: tests stand it still).
    res.locals.requestTime = calendar.now();
    // The {{date}} helper shows instants as the charity's dates.
    res.locals.charityTimeZone = calendar.timeZone;
    next();
  });
  // Sessions (res.locals.user), then CSRF (res.locals.csrfToken; checks every unsafe request).
  app.use(loadSession(deps.db, deps.config));
  app.use(privateWhenSignedIn);
  app.use(csrfProtection(deps.config, SESSION_COOKIE));

  app.use(siteRoutes(deps.readDb ?? deps.db, deps.config));
  app.use(campaignRoutes(deps.readDb ?? deps.db, deps.config));
  app.use(groupRoutes(deps));
  app.use(staffGroupRoutes(deps));
  app.use(accountRoutes(deps));
  app.use(securityRoutes(deps));
  app.use(dashboardRoutes({ db: deps.db, calendar, clock: deps.clock, config: deps.config }));
  app.use(staffAccountRoutes(deps));
  app.use(auditRoutes(deps.db, calendar.timeZone));
  app.use(jobRoutes(deps));
  app.use(receiptRoutes(deps));
  app.use(reportRoutes(deps));
  const familyKeys = loadFamilyKeyring(deps.config, deps.logger);
  app.use(familyRoutes(deps, familyKeys));
  app.use(privacyRoutes(deps));
  app.use(matchingRoutes(deps, familyKeys));
  app.use(scheduleRoutes(deps, familyKeys));
  app.use(givingRoutes(giving));
  app.use(staffGivingRoutes(giving));
  app.use(staffDonorRoutes(giving));
  app.use(donorPageRoutes(giving));

  app.use(notFound);
  app.use(handleErrors);
  return app;
}
