import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { DEFAULT_CHARITY_TIME_ZONE, isTimeZone } from './calendar/charity-calendar';

/**
 * The environment, parsed once at start-up. Nothing else in Haven reads process.env:
 * the parsed Config is passed down to whatever needs it.
 */
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

function weight(fallback: number) {
  return z.coerce.number().int().min(0).max(100).default(fallback);
}

/** A 256-bit key: 64 hex characters, or base64 of 32 bytes. */
export function parseDataKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

/**
 * TRUST_PROXY in Express's `trust proxy` syntax: `false` (the default: X-Forwarded-For is ignored),
 * `true` (every hop), a number of hops, or a comma-separated list of addresses, subnets (CIDR or
 * address/netmask) and the names loopback, linklocal, uniquelocal. Undefined when it is none of these.
 */
export function parseTrustProxy(text: string): boolean | number | string[] | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((e) => e.trim());
  return entries.every(isTrustedProxyEntry) ? entries : undefined;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', mask, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (mask === undefined) return true;
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(mask) === 4;
}

function isDataKey(text: string): boolean {
  return parseDataKey(text) !== undefined;
}

/** Development only: production requires the charity's real address (CHARITY_ADDRESS). */
const DEVELOPMENT_ADDRESS = '123 Example Street, Toronto ON  M5V 0A1';

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  // Unset: 1 second, or 0 (no caching) under NODE_ENV=test so tests read what they just wrote.
  PUBLIC_CACHE_SECONDS: optionalText.pipe(z.string().regex(/^\d{1,3}(\.\d+)?$/, 'must be a number of seconds').transform(Number).pipe(z.number().max(300, 'must be at most 300')).optional()),
  PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  TRUST_PROXY: optionalText.pipe(
    z
      .string()
      .refine((v) => parseTrustProxy(v) !== undefined, 'must be false, true, a number of hops, or addresses and subnets separated by commas')
      .optional(),
  ),
  SESSION_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SMTP_URL: optionalText.pipe(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()),
  MAIL_FROM: z.string().trim().min(3).default('HanVoice Haven <no-reply@hanvoice.ca>'),
  FAMILY_DATA_KEY: optionalText.pipe(z.string().refine(isDataKey, 'must be 32 bytes as 64 hex characters or base64').optional()),
  FAMILY_DATA_PREVIOUS_KEYS: optionalText.pipe(
    z
      .string()
      .refine((v) => v.split(',').every((k) => isDataKey(k.trim())), 'must be comma-separated 32-byte keys (hex or base64)')
      .optional(),
  ),
  MATCHING_STAFF_EMAIL: optionalText.pipe(z.email().optional()),
  // Families' privacy (server/families/retention.ts, the privacy pages).
  FAMILY_IDENTITY_RETENTION_MONTHS: z.coerce.number().int().min(1).max(120).default(12),
  PRIVACY_OFFICER_EMAIL: optionalText.pipe(z.email().optional()),
  // Staff sign in with a password and a passkey (server/accounts/README.md); required in production.
  STAFF_PASSKEYS: optionalText.pipe(z.enum(['required', 'optional'], 'must be required or optional').optional()),
  MATCH_HOLD_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  MATCH_WEIGHT_FUNDS: weight(35),
  MATCH_WEIGHT_REGION: weight(15),
  MATCH_WEIGHT_LANGUAGE: weight(20),
  MATCH_WEIGHT_CAPACITY: weight(10),
  MATCH_WEIGHT_PLAN: weight(10),
  MATCH_WEIGHT_PRIORITY_NEEDS: weight(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GROUP_STARTUP_CASH_FLOOR_PERCENT: z.coerce.number().int().min(1).max(100).default(25),
  // Official donation receipts (server/receipts): the charity as on file with CRA.
  CHARITY_NAME: z.string().trim().min(1).default('HanVoice'),
  // Development defaults only: production requires the real address (receipts, cheques) and contact e-mail.
  CHARITY_ADDRESS: z.string().trim().min(1).default(DEVELOPMENT_ADDRESS),
  // Where people write: the contact page, the footer, the giving form's large-gift and e-transfer instructions.
  CONTACT_EMAIL: optionalText.pipe(z.email('must be an e-mail address').optional()),
  // Where Interac e-transfers go (default: CONTACT_EMAIL) and cheques are mailed (default: CHARITY_ADDRESS).
  ETRANSFER_EMAIL: optionalText.pipe(z.email('must be an e-mail address').optional()),
  CHEQUE_MAILING_ADDRESS: optionalText,
  CHARITY_REGISTRATION_NUMBER: optionalText.pipe(
    z
      .string()
      .regex(/^\d{9} ?RR ?\d{4}$/, 'must look like 123456789 RR 0001')
      .optional(),
  ),
  RECEIPT_LOCATION: z.string().trim().min(1).default('Toronto, Ontario'),
  RECEIPT_SIGNATORY_NAME: z.string().trim().min(1).default('Receipting Officer'),
  RECEIPT_SIGNATORY_TITLE: z.string().trim().min(1).default('Authorized signatory, HanVoice'),
  RECEIPT_SERIAL_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Z]{1,6}$/, 'must be 1 to 6 capital letters')
    .default('HV'),
  STRIPE_SECRET_KEY: optionalText.pipe(z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)').optional()),
  STRIPE_WEBHOOK_SECRET: optionalText.pipe(z.string().regex(/^whsec_\w+$/, 'must be a webhook signing secret (whsec_…)').optional()),
  STRIPE_API_HOST: optionalText,
  STRIPE_API_PORT: optionalText.pipe(z.string().regex(/^\d{1,5}$/, 'must be a port number').transform(Number).optional()),
  STRIPE_API_PROTOCOL: optionalText.pipe(z.enum(['http', 'https']).optional()),
  // A percentage with at most two decimals ("2.9"), kept as basis points: money math never sees a float.
  CARD_FEE_PERCENT: z
    .string()
    .trim()
    .regex(/^\d{1,2}(\.\d{1,2})?$/, 'must be a percentage such as 2.9')
    .default('2.9')
    .transform(percentToBasisPoints),
  CARD_FEE_FIXED_CENTS: z.coerce.number().int().min(0).max(1000).default(30),
  PLEDGE_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).max(10_000).default(20),
  PLEDGE_RATE_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).max(10_000).default(5),
  // Issue 15: the charity's calendar, and the sanity checks before staff move money.
  CHARITY_TIME_ZONE: z.string().trim().refine(isTimeZone, 'must be an IANA time zone such as America/Toronto').default(DEFAULT_CHARITY_TIME_ZONE),
  LARGE_PAYMENT_DOLLARS: z.coerce.number().int().min(1).max(100_000).default(10_000),
  ARRIVAL_WINDOW_MONTHS: z.coerce.number().int().min(1).max(36).default(12),
  JOBS_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  DATABASE_READ_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
});

function percentToBasisPoints(text: string): number {
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  /** Unset: Haven runs its embedded PostgreSQL (PGlite) under dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  /** How long the public pages' shared data (campaign and group totals, donor walls) may be reused: DOMAIN.md's "updated coarsely". */
  publicCacheSeconds: number;
  publicUrl: string;
  /** Express's `trust proxy`: which hops' X-Forwarded-For to believe for req.ip (false: none, the client is the socket). */
  trustProxy: boolean | number | string[];
  sessionSecret: string | undefined;
  /** Unset: e-mails are written to the log instead of sent. */
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Share of the start-up costs a sponsor group must hold in cash: in-kind gifts never replace it. */
  groupStartupCashFloorPercent: number;
  /** What official donation receipts say about the charity (server/receipts). */
  charity: CharityDetails;
  /** Where donors write, send e-transfers and mail cheques (the contact page, footer, giving instructions). */
  contact: { email: string; eTransferEmail: string; chequeMailingAddress: string };
  /** AES-256 key for family_identities; unset outside production: see server/families/data-keys.ts. */
  familyDataKey: Buffer | undefined;
  /** Earlier keys, still able to decrypt rows written before a rotation. */
  familyDataPreviousKeys: Buffer[];
  /** The staff inbox told of every match step (ids and links only); unset: only coordinators are e-mailed. */
  matchingStaffEmail: string | undefined;
  /** How long a family's identity is kept after its support ends, then deleted. */
  familyIdentityRetentionMonths: number;
  /** Who answers privacy concerns (named on /privacy) and is warned of identity deletions; unset: every active staff account is warned. */
  privacyOfficerEmail: string | undefined;
  /** 'required': a password alone never opens the staff area (always in production); 'optional': staff may enrol a passkey. */
  staffPasskeys: 'required' | 'optional';
  /** How long a proposed match holds the family and the group before it lapses. */
  matchHoldDays: number;
  /** Points of each part of a match score (each part scores 0..weight × 10). */
  matchWeights: MatchWeights;
  /** Card giving (Stripe Checkout); undefined when STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET is unset: pay-later still works. */
  stripe: StripeConfig | undefined;
  /** What "cover the processing fee" adds: basis points of the gift plus a fixed amount. */
  cardFee: { basisPoints: number; fixedCents: number };
  /** Pledges a visitor may start per hour, per IP address and per e-mail address. */
  pledgeRateLimits: { perIp: number; perEmail: number };
  /** Decides "today", default dates on forms, due dates, overdue and the tax year of a gift (server/calendar). */
  charityTimeZone: string;
  /** An offline payment above this (or above what its pledge still owes) needs a typed confirmation. */
  largePaymentCents: number;
  /** How far ahead of today a family's arrival may be recorded. */
  arrivalWindowMonths: number;
  /** How often each process looks for a periodic job that is due (server/jobs): a job runs at most this late. */
  jobsPollSeconds: number;
  /** A PostgreSQL streaming replica the public pages read from (unset: they read the primary). Money and sessions always read the primary. */
  databaseReadUrl: string | undefined;
};

export type StripeConfig = {
  secretKey: string;
  webhookSecret: string;
  /** For tests and stripe-mock: the SDK's host/port/protocol. */
  apiHost: string | undefined;
  apiPort: number | undefined;
  apiProtocol: 'http' | 'https' | undefined;
};

export type MatchWeights = {
  funds: number;
  region: number;
  language: number;
  capacity: number;
  plan: number;
  priorityNeeds: number;
};

export type CharityDetails = {
  name: string;
  address: string;
  registrationNumber: string;
  /** Place of issue printed on receipts. */
  receiptLocation: string;
  signatoryName: string;
  signatoryTitle: string;
  serialPrefix: string;
};

/** Development only: a made-up number, refused in production (CHARITY_REGISTRATION_NUMBER is then required). */
const DEVELOPMENT_REGISTRATION_NUMBER = '000000000 RR 0000';
/** Development only, like the number: production requires CHARITY_ADDRESS and CONTACT_EMAIL. */
const DEVELOPMENT_CONTACT_EMAIL = 'giving@hanvoice.example';

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'SESSION_SECRET', 'SMTP_URL', 'FAMILY_DATA_KEY', 'FAMILY_DATA_PREVIOUS_KEYS', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError whose message names the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = env[variable];
    const shown =
      got === undefined ? 'it is not set' : SECRET_VARIABLES.has(variable) ? 'value hidden' : `got ${JSON.stringify(truncate(got))}`;
    throw new ConfigError(`Invalid configuration: ${variable} ${issue.message} (${shown})`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.SESSION_SECRET) {
    throw new ConfigError('Invalid configuration: SESSION_SECRET is required when NODE_ENV=production (it is not set)');
  }
  if (e.NODE_ENV === 'production' && !e.CHARITY_REGISTRATION_NUMBER) {
    throw new ConfigError('Invalid configuration: CHARITY_REGISTRATION_NUMBER is required when NODE_ENV=production (it is not set)');
  }
  if (e.NODE_ENV === 'production' && e.STAFF_PASSKEYS === 'optional') {
    throw new ConfigError(
      'Invalid configuration: STAFF_PASSKEYS cannot be optional when NODE_ENV=production (a stolen password must open nothing; give each staff member a set-up link with npm run create-staff)',
    );
  }
  if (e.DATABASE_READ_URL && !e.DATABASE_URL) {
    throw new ConfigError('Invalid configuration: DATABASE_READ_URL needs DATABASE_URL (the embedded database has no replica)');
  }
  if (e.NODE_ENV === 'production' && !e.FAMILY_DATA_KEY) {
    throw new ConfigError('Invalid configuration: FAMILY_DATA_KEY is required when NODE_ENV=production (it is not set)');
  }
  for (const required of ['CHARITY_ADDRESS', 'CONTACT_EMAIL'] as const) {
    if (e.NODE_ENV === 'production' && (env[required] ?? '').trim() === '') {
      throw new ConfigError(`Invalid configuration: ${required} is required when NODE_ENV=production (it is not set; donors mail cheques and write there)`);
    }
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: path.resolve(e.DATA_DIR),
    publicCacheSeconds: e.PUBLIC_CACHE_SECONDS ?? (e.NODE_ENV === 'test' ? 0 : 1),
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    trustProxy: e.TRUST_PROXY ? parseTrustProxy(e.TRUST_PROXY)! : false,
    sessionSecret: e.SESSION_SECRET,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    groupStartupCashFloorPercent: e.GROUP_STARTUP_CASH_FLOOR_PERCENT,
    charity: {
      name: e.CHARITY_NAME,
      address: e.CHARITY_ADDRESS,
      registrationNumber: e.CHARITY_REGISTRATION_NUMBER ?? DEVELOPMENT_REGISTRATION_NUMBER,
      receiptLocation: e.RECEIPT_LOCATION,
      signatoryName: e.RECEIPT_SIGNATORY_NAME,
      signatoryTitle: e.RECEIPT_SIGNATORY_TITLE,
      serialPrefix: e.RECEIPT_SERIAL_PREFIX,
    },
    contact: {
      email: e.CONTACT_EMAIL ?? DEVELOPMENT_CONTACT_EMAIL,
      eTransferEmail: e.ETRANSFER_EMAIL ?? e.CONTACT_EMAIL ?? DEVELOPMENT_CONTACT_EMAIL,
      chequeMailingAddress: e.CHEQUE_MAILING_ADDRESS ?? e.CHARITY_ADDRESS,
    },
    familyDataKey: e.FAMILY_DATA_KEY ? parseDataKey(e.FAMILY_DATA_KEY) : undefined,
    familyDataPreviousKeys: (e.FAMILY_DATA_PREVIOUS_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '')
      .map((k) => parseDataKey(k)!),
    matchingStaffEmail: e.MATCHING_STAFF_EMAIL,
    familyIdentityRetentionMonths: e.FAMILY_IDENTITY_RETENTION_MONTHS,
    privacyOfficerEmail: e.PRIVACY_OFFICER_EMAIL,
    staffPasskeys: e.STAFF_PASSKEYS ?? (e.NODE_ENV === 'production' ? 'required' : 'optional'),
    matchHoldDays: e.MATCH_HOLD_DAYS,
    matchWeights: {
      funds: e.MATCH_WEIGHT_FUNDS,
      region: e.MATCH_WEIGHT_REGION,
      language: e.MATCH_WEIGHT_LANGUAGE,
      capacity: e.MATCH_WEIGHT_CAPACITY,
      plan: e.MATCH_WEIGHT_PLAN,
      priorityNeeds: e.MATCH_WEIGHT_PRIORITY_NEEDS,
    },
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? {
            secretKey: e.STRIPE_SECRET_KEY,
            webhookSecret: e.STRIPE_WEBHOOK_SECRET,
            apiHost: e.STRIPE_API_HOST,
            apiPort: e.STRIPE_API_PORT,
            apiProtocol: e.STRIPE_API_PROTOCOL,
          }
        : undefined,
    cardFee: { basisPoints: e.CARD_FEE_PERCENT, fixedCents: e.CARD_FEE_FIXED_CENTS },
    pledgeRateLimits: { perIp: e.PLEDGE_RATE_LIMIT_PER_IP, perEmail: e.PLEDGE_RATE_LIMIT_PER_EMAIL },
    charityTimeZone: e.CHARITY_TIME_ZONE,
    largePaymentCents: e.LARGE_PAYMENT_DOLLARS * 100,
    arrivalWindowMonths: e.ARRIVAL_WINDOW_MONTHS,
    jobsPollSeconds: e.JOBS_POLL_SECONDS,
    databaseReadUrl: e.DATABASE_READ_URL,
  };
}

/**
 * The environment with `.env` (in the working directory, if there is one) underneath: a variable
 * set in the real environment wins over the file. main.ts and the npm scripts call it; tests
 * build their Config from explicit values and never read a developer's .env.
 */
export function withDotEnv(env: NodeJS.ProcessEnv, file = path.resolve('.env')): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new ConfigError(`Invalid configuration: ${file} cannot be read (${(error as Error).message})`);
  }
  return { ...parseEnv(text), ...env };
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
