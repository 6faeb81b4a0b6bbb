import fs from 'node:fs';
import path from 'node:path';

/** family_identities is queried in exactly one function (viewFamilyIdentity) and touched nowhere else. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('only server/families/identities.ts queries family_identities, and it selects from it once', () => {
  const root = path.resolve(__dirname, '../../server');
  const naming = sourceFiles(root)
    .filter((f) => /['"`]family_identities['"`]|(from|into|update|join)\s+family_identities/i.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(root, f))
    .sort();
  expect(naming).toEqual(['families/identities.ts']);
  const source = fs.readFileSync(path.join(root, 'families/identities.ts'), 'utf8');
  expect(source.match(/selectFrom\('family_identities'\)/g)).toHaveLength(1);
  const reader = source.slice(source.indexOf('export async function viewFamilyIdentity'));
  expect(reader).toContain("selectFrom('family_identities')");
  expect(reader).toContain("action: 'family_identity.viewed'");
});
