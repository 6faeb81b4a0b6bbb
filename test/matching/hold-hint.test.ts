import { randomBytes } from 'node:crypto';
import { keyringOf } from '../../server/families/data-keys';
import { registerFamily } from '../../server/families/families';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs } from '../support/session';
import { availableFamily, profile, SENTINELS, staffA } from '../families/factories';
import { readyGroup } from './factories';

/** Issue 19: the suggestions page may advise holding a group for a family in vetting; it never holds or proposes anything itself. */
const keyring = keyringOf(randomBytes(32));
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('staff are advised to hold the SGBV-capable group when a survivor in vetting will need it, and another group suits the family; nothing is held', async () => {
  const family = await availableFamily(t.db, keyring, { sgbvSurvivor: false, traumaInformedSupport: false, adults: 1, children: 2 });
  // Speaks Korean (the family's language) and offers SGBV-informed support: the family's first suggestion.
  const strong = await readyGroup(t.db, { familySize: 4, languages: ['ko', 'en'] });
  const plain = await readyGroup(t.db, { familySize: 4, languages: ['en'], offers: false });
  const names = await t.db.selectFrom('sponsor_groups').select(['id', 'name']).execute();
  const nameOf = (id: number) => names.find((g) => g.id === id)!.name;
  const staff = await signInAs(t, 'staff');

  const before = await staff.agent.get(`/staff/families/${family.id}/suggestions`).expect(200);
  expect(before.text).not.toContain('Consider holding this group');
  expect(before.text.indexOf(nameOf(strong.id))).toBeLessThan(before.text.indexOf(nameOf(plain.id)));

  // A survivor of SGBV in vetting: only the strong group can take her.
  await t.db.transaction().execute((trx) => registerFamily(trx, keyring, staffA, profile({ sgbvSurvivor: true, vettingStatus: 'pending', vettedOn: null, adults: 1, children: 2 }), SENTINELS));
  const after = await staff.agent.get(`/staff/families/${family.id}/suggestions`).expect(200);
  const hint = /<p class="notice" role="note">([^<]*)<\/p>/.exec(after.text)?.[1];
  expect(hint).toMatch(new RegExp(`^Consider holding this group: ${nameOf(strong.id)}\\. In (1[1-9]|20) of 20 likely futures, a family now in vetting who needs SGBV-informed support is placed with it; ${nameOf(plain.id)} also suits this family\\. This is advice only: the decision is yours\\.$`));
  for (const secret of Object.values(SENTINELS)) expect(after.text).not.toContain(secret);
  // Advice only: no match or hold was made.
  expect(await t.db.selectFrom('matches').select('id').execute()).toEqual([]);
});
