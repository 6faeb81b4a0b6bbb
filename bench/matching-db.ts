/**
 * The suggestions page's work on a real (embedded) database: load every ready group's profile
 * and score them for one family. `npx tsx bench/matching-db.ts [groups]` (default 500).
 * Groups are made through the groups module's own functions, like the tests' factory.
 */
import { performance } from 'node:perf_hooks';
import { createKysely } from '../server/db/database';
import { startEmbeddedPostgres } from '../server/db/embedded';
import { migrateToLatest } from '../server/db/migrator';
import { applyForGroup, approveGroup } from '../server/groups/applications';
import { recordCheck } from '../server/groups/readiness';
import { SETTLEMENT_AREAS, savePlan } from '../server/groups/settlement-plan';
import { accounts } from '../server/ledger/accounts';
import { postTransaction } from '../server/ledger/ledger';
import { currentCostTable, listCandidateGroups } from '../server/matching/candidates';
import { suggestGroups } from '../server/matching/score';

const count = Number(process.argv[2] ?? 500);
const actor = { userId: null, label: 'bench' };
const weights = { funds: 35, region: 15, language: 20, capacity: 10, plan: 10, priorityNeeds: 10 };

async function main() {
  const embedded = await startEmbeddedPostgres({});
  const db = createKysely(embedded.url, 4);
  await migrateToLatest(db);
  const provinces = ['ON', 'QC', 'BC', 'AB'] as const;
  for (let n = 0; n < count; n++) {
    await db.transaction().execute(async (trx) => {
      const g = await applyForGroup(
        trx,
        { name: `Bench group ${n}`, city: 'Toronto', province: provinces[n % 4]!, coordinatorName: `C ${n}`, coordinatorEmail: `c${n}@bench.test`, languages: ['ko', 'en'], familySize: 1 + (n % 6), story: '', locale: 'en' },
      );
      await approveGroup(trx, actor, g.id, 'http://bench.test');
      const member = await trx.selectFrom('group_members').select('id').where('group_id', '=', g.id).executeTakeFirstOrThrow();
      await savePlan(trx, g.id, Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [member.id]])));
      await recordCheck(trx, actor, g.id, 'training', true, '');
      await recordCheck(trx, actor, g.id, 'background_checks', true, '');
      await postTransaction(trx, { kind: 'bench', description: 'bench', entries: [{ account: accounts.bank, amountCents: 4_000_000 }, { account: accounts.fund({ groupId: g.id }), amountCents: -4_000_000 }] });
    });
  }
  const family = { id: 1, size: 3, languages: ['ko'], preferredRegion: 'ON', sgbvSurvivor: true, medicalNeeds: false, traumaInformedSupport: true };
  const times: number[] = [];
  let ranked = 0;
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    const [groups, table] = await Promise.all([listCandidateGroups(db, { groupStartupCashFloorPercent: 25 }), currentCostTable(db)]);
    ranked = suggestGroups(family, groups, table, weights).ranked.length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`suggestions with database loading, ${count} ready groups (embedded PGlite): median ${times[2]!.toFixed(0)} ms (runs ${times.map((t) => t.toFixed(0)).join('/')}), ${ranked} ranked`);
  await db.destroy();
  await embedded.stop();
}

void main();
