import path from 'node:path';
import { z } from 'zod';

/**
 * The environment, parsed once at start-up. Nothing else in Haven reads process.env:
 * the parsed Config is passed down to whatever needs it.
 */
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

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
  PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SESSION_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SMTP_URL: optionalText.pipe(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()),
  MAIL_FROM: z.string().trim().min(3).default('HanVoice Haven <no-reply@hanvoice.ca>'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Official donation receipts (server/receipts): the charity as on file with CRA.
  CHARITY_NAME: z.string().trim().min(1).default('HanVoice'),
  CHARITY_ADDRESS: z.string().trim().min(1).default('123 Example Street, Toronto ON  M5V 0A1'),
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
});

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  /** Unset: Haven runs its embedded PostgreSQL (PGlite) under dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  publicUrl: string;
  sessionSecret: string | undefined;
  /** Unset: e-mails are written to the log instead of sent. */
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** What official donation receipts say about the charity (server/receipts). */
  charity: CharityDetails;
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

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'SESSION_SECRET', 'SMTP_URL']);

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
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: path.resolve(e.DATA_DIR),
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    sessionSecret: e.SESSION_SECRET,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    charity: {
      name: e.CHARITY_NAME,
      address: e.CHARITY_ADDRESS,
      registrationNumber: e.CHARITY_REGISTRATION_NUMBER ?? DEVELOPMENT_REGISTRATION_NUMBER,
      receiptLocation: e.RECEIPT_LOCATION,
      signatoryName: e.RECEIPT_SIGNATORY_NAME,
      signatoryTitle: e.RECEIPT_SIGNATORY_TITLE,
      serialPrefix: e.RECEIPT_SERIAL_PREFIX,
    },
  };
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
