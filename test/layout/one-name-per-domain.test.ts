import fs from 'node:fs';
import path from 'node:path';

/**
 * Issue 22: a newcomer finds a domain under one name in server/, views/ and locales/, each module
 * folder explains itself in a README, and the top-level README's architecture map is the tree.
 */
const ROOT = path.resolve(__dirname, '../..');
const folders = (dir: string) =>
  fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
const modules = folders('server');

test('every server module folder has a README saying what it owns', () => {
  expect(modules.filter((m) => !fs.existsSync(path.join(ROOT, 'server', m, 'README.md')))).toEqual([]);
});

test("the README's architecture map lists exactly the server module folders", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const map = /```\nserver\/\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const listed = [...map.matchAll(/^ {2}(\w[\w-]*)\/ /gm)].map((m) => m[1]).sort();
  expect(listed).toEqual(modules);
});

test('each views/ folder is a module of server/ (besides the layout, partials, e-mails and error page)', () => {
  const shared = ['emails', 'errors', 'layouts', 'partials'];
  expect(folders('views').filter((v) => !shared.includes(v) && !modules.includes(v))).toEqual([]);
  expect(folders('views/emails').filter((v) => !modules.includes(v))).toEqual([]);
});

test('each locale namespace is a module of server/ (besides common and e-mails), the same in every language', () => {
  const namespaces = (lang: string) =>
    fs
      .readdirSync(path.join(ROOT, 'locales', lang))
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.basename(f, '.json'))
      .sort();
  const en = namespaces('en');
  expect(en.filter((ns) => !['common', 'emails'].includes(ns) && !modules.includes(ns))).toEqual([]);
  for (const lang of folders('locales')) expect(namespaces(lang)).toEqual(en);
});
