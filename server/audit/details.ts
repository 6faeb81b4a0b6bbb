import type { TFunction } from 'i18next';
import { IDENTITY_FIELDS } from '../families/identities';
import { formatDate, formatMoney, formatNumber, formatPercent } from '../http/views';
import { type Locale, translations } from '../i18n/i18n';

/** One line of an audit entry's details, as a person reads it: a translated label and a value in words. */
export type DetailLine = { label: string; value: string };

export type DetailNames = { people: Map<number, string>; groups: Map<number, string> };

/**
 * Where a code's words live, per detail key: the first message that exists wins (the action's
 * kind decides between two lists with the same code, e.g. a family's and a match's `withdrawn`),
 * then audit:codes, then the code with its underscores as spaces. Never the raw code's JSON.
 */
function codeKeys(action: string, key: string): string[] {
  const kind = action.split('.')[0];
  switch (key) {
    case 'status':
      return kind === 'group' ? ['groups:inKindStatus'] : kind === 'payment' ? ['giving:labels.paymentStatus'] : ['giving:labels.pledgeStatus'];
    case 'from':
    case 'to':
      return kind === 'family' ? ['families:status'] : kind === 'matching' ? ['matching:priorities.needs'] : [];
    case 'was':
      return ['matching:status'];
    case 'method':
      return kind === 'schedule' ? ['schedules:methods'] : ['receipts:staff.method', 'schedules:methods'];
    case 'frequency':
      return ['receipts:staff.frequency', 'giving:labels.frequency'];
    case 'role':
      return ['groups:roles', 'accounts:roles'];
    case 'fields':
    case 'filled':
    case 'cleared':
    case 'sharedFields':
      return ['families:identity'];
    case 'languages':
      return ['groups:languages'];
    default:
      return [];
  }
}

const DATE_KEY = /(?:On|At)$|^on$/;
const MONEY_KEY = /Cents$/;
const PERSON_KEY = new Set(['userId', 'memberId']);
const IDENTITY_KEYS = new Set<string>(IDENTITY_FIELDS);

/** 'amountCents' → 'Amount cents': what an unknown key reads, rather than the key itself. */
export function humanise(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function exists(key: string): boolean {
  return translations().exists(key, { lng: 'en' });
}

/** Where a detail key's label lives: audit's own list, then the words the recording page used (a group's support offers). */
const LABEL_BASES = ['audit:details', 'matching:offers'];

export function detailLabel(t: TFunction, key: string): string {
  const base = LABEL_BASES.find((b) => exists(`${b}.${key}`));
  return base ? t(`${base}.${key}`) : humanise(key);
}

function codeWords(t: TFunction, action: string, key: string, code: string): string {
  for (const base of [...codeKeys(action, key), 'audit:codes']) {
    if (exists(`${base}.${code}`)) return t(`${base}.${code}`);
  }
  return code.replace(/_/g, ' ');
}

function valueWords(t: TFunction, locale: Locale, names: DetailNames, action: string, key: string, value: unknown, depth: number): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return t(value ? 'audit:codes.yes' : 'audit:codes.no');
  if (Array.isArray(value)) return value.length ? value.map((v) => valueWords(t, locale, names, action, key, v, depth)).join(', ') : '—';
  if (typeof value === 'object') {
    if (depth >= 2) return '…';
    const parts = Object.entries(value as Record<string, unknown>).filter(([k]) => !IDENTITY_KEYS.has(k));
    return parts.length ? parts.map(([k, v]) => `${detailLabel(t, k)}: ${valueWords(t, locale, names, action, k, v, depth + 1)}`).join('; ') : '—';
  }
  if (typeof value === 'number') {
    if (MONEY_KEY.test(key)) return formatMoney(value, locale);
    if (key === 'basisPoints') return formatPercent(value / 10_000, locale);
    if (key === 'groupId' && names.groups.has(value)) return names.groups.get(value)!;
    if (PERSON_KEY.has(key) && names.people.has(value)) return names.people.get(value)!;
    return /Ids?$|^id$/.test(key) ? String(value) : formatNumber(value, locale);
  }
  const text = String(value);
  if (key === 'languages' && text.includes(', ')) return valueWords(t, locale, names, action, key, text.split(', '), depth);
  if (DATE_KEY.test(key) && /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) return formatDate(text.length === 10 ? text : new Date(text), locale);
  if (/^[a-z][a-z0-9_]*$/.test(text) && (codeKeys(action, key).length > 0 || exists(`audit:codes.${text}`))) return codeWords(t, action, key, text);
  return text;
}

/**
 * An entry's details as labelled values: each key's label translated (an unknown key humanised),
 * codes in words, money as money, dates as dates, groups and people by name. A key named like a
 * family identity field (`names`, `contact`…) is never shown: audit details hold field names,
 * never their values, and this keeps it so should one ever be written.
 */
export function detailLines(t: TFunction, locale: Locale, names: DetailNames, action: string, details: Record<string, unknown>): DetailLine[] {
  return Object.entries(details)
    .filter(([key]) => !IDENTITY_KEYS.has(key))
    .map(([key, value]) => ({ label: detailLabel(t, key), value: valueWords(t, locale, names, action, key, value, 0) }));
}
