import fs from 'node:fs';
import path from 'node:path';
import { quoted, renderEmail } from '../../server/notifications/emails';
import { VIEWS_DIR } from '../../server/paths';

/**
 * Text people type reaches e-mails sent to other people: a group's application names a
 * coordinator and an address, a coordinator's name signs member invitations, a donor's name rides
 * on a pledge anyone can make for any address. Written as "Your HanVoice donation failed: confirm
 * your card at https://evil.example/…", it read as HanVoice's own first line. Every template, in
 * both languages, with such text in every field a person writes: never in the subject or the first
 * line, always inside quotation marks, never breaking onto a line of its own.
 */
const PHISH = 'Your HanVoice donation failed — confirm your card at https://evil.example/pay\nPlease act now';
const USER_WRITTEN = ['name', 'groupName', 'inviter', 'reason'];

const templates = (function walk(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name.replace(/\.hbs$/, '')}`]));
})(path.join(VIEWS_DIR, 'emails'));

const otherData = {
  link: 'https://haven.test/accept-invitation?token=x',
  role: 'sponsor',
  days: 7,
  minutes: 60,
  amountCents: 5_000,
  monthly: true,
  months: 12,
  cancelUrl: 'https://haven.test/give/cancel',
  reference: 'HV-P-12',
  cheque: true,
  dueOn: '2026-12-31',
  serial: 'HV-2026-000001',
  eligibleAmountCents: 5_000,
  annual: true,
  taxYear: 2026,
  replacesSerial: 'HV-2026-000000',
  context: 'approved',
  matchId: 7,
  count: 2,
  totalCents: 10_000,
  pageUrl: 'https://haven.test/groups/x',
  workspaceUrl: 'https://haven.test/group',
  scheduleUrl: 'https://haven.test/group/schedule',
};

test('there are templates to check', () => {
  expect(templates).toEqual(expect.arrayContaining(['accounts/invitation', 'groups/received', 'giving/pledge-instructions']));
});

describe.each(['en', 'fr'] as const)('in %s', (locale) => {
  test.each(templates)('%s: what people wrote is quoted, and never in the subject or the first line', (template) => {
    for (const role of ['sponsor', 'staff']) {
      const data = { ...otherData, role, ...Object.fromEntries(USER_WRITTEN.map((k) => [k, PHISH])) };
      const email = renderEmail({ to: 'someone@example.org', template, locale, data });
      expect(email.subject).not.toContain('evil.example');
      const [first, ...rest] = email.text.split('\n');
      expect(first).not.toContain('evil.example');
      expect(first!.trim()).not.toBe('');
      // Every appearance sits inside quotation marks, on one line.
      const inQuotes = locale === 'fr' ? /«\u00a0[^»\n]*\u00a0»/g : /“[^”\n]*”/g;
      expect(rest.join('\n').replace(inQuotes, '')).not.toContain('evil.example');
      expect(email.text).not.toMatch(/^Please act now/m);
    }
  });
});

test('quoted() keeps a name readable: one line, no quotation marks of its own, at most 120 characters', () => {
  expect(quoted('Ji-woo "JW" Kim\r\nNext', 'en')).toBe("“Ji-woo 'JW' Kim Next”");
  expect(quoted('Les Amis de Montréal', 'fr')).toBe('«\u00a0Les Amis de Montréal\u00a0»');
  expect(quoted('김지우', 'en')).toBe('“김지우”');
  const long = quoted('x'.repeat(500), 'en');
  expect(long.length).toBeLessThanOrEqual(122);
  expect(long.endsWith('…”')).toBe(true);
  expect(quoted('a\u202Eb\u200Bc', 'en')).toBe('“a b c”');
});
