import fs from 'node:fs';
import path from 'node:path';

/** family_identities is read in exactly one function, whose every caller audits, and touched nowhere else. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('only server/families/identities.ts touches family_identities, it selects from it once, and every reader of that select writes an audit row', () => {
  const root = path.resolve(__dirname, '../../server');
  const naming = sourceFiles(root)
    .filter((f) => /['"`]family_identities['"`]|(from|into|update|join)\s+family_identities/i.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(root, f))
    .sort();
  expect(naming).toEqual(['families/identities.ts']);
  const source = fs.readFileSync(path.join(root, 'families/identities.ts'), 'utf8');
  expect(source.match(/selectFrom\('family_identities'\)/g)).toHaveLength(1);
  // The select lives in one private function...
  const functions = source.split(/\n(?=(?:export )?async function )/);
  const reader = functions.find((f) => f.includes("selectFrom('family_identities')"))!;
  expect(reader).toMatch(/^async function openStoredIdentities\(/);
  // ...and each function that calls it writes an audit row in the same transaction.
  const callers = functions.filter((f) => f !== reader && f.includes('openStoredIdentities('));
  expect(callers.length).toBeGreaterThanOrEqual(2);
  for (const caller of callers) {
    expect(caller).toMatch(/^export async function /);
    expect(caller).toContain('await writeAudit(trx');
  }
  expect(callers.find((f) => f.startsWith('export async function viewFamilyIdentity'))).toContain("action: 'family_identity.viewed'");
});
