import fs from 'node:fs';
import path from 'node:path';

/** family_identities is read in exactly one function, which decrypts and audits, and touched nowhere else. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('only server/families/identities.ts touches family_identities, and it selects from it once, in a function that decrypts and audits', () => {
  const root = path.resolve(__dirname, '../../server');
  const naming = sourceFiles(root)
    .filter((f) => /['"`]family_identities['"`]|(from|into|update|join)\s+family_identities/i.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(root, f))
    .sort();
  expect(naming).toEqual(['families/identities.ts']);
  const source = fs.readFileSync(path.join(root, 'families/identities.ts'), 'utf8');
  expect(source.match(/selectFrom\('family_identities'\)/g)).toHaveLength(1);
  const functions = source.split(/\n(?=(?:export )?async function )/);
  const reader = functions.find((f) => f.includes("selectFrom('family_identities')"))!;
  // One private function reads, decrypts and writes the audit rows in the caller's transaction...
  expect(reader).toMatch(/^async function openStoredIdentities\(\s*trx: Transaction<Database>/);
  expect(reader).toContain('openIdentity(keyring');
  expect(reader).toContain('await writeAudit(trx, auditFor(');
  // ...every caller says what its look is for, and the staff and group views are recorded as views.
  const callers = functions.filter((f) => f !== reader && f.includes('openStoredIdentities('));
  expect(callers.map((f) => /^export async function (\w+)/.exec(f)?.[1]).sort()).toEqual(['rekeyFamilyIdentities', 'updateFamilyIdentityFields', 'viewFamilyIdentity']);
  expect(callers.find((f) => f.includes('function viewFamilyIdentity'))).toContain("action: 'family_identity.viewed'");
});
