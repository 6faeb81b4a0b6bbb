import { randomBytes } from 'node:crypto';
import { createUser, findUserByEmail, makeAdministrator, setPassword } from '../accounts/users';
import { requireCurrentCampaign } from '../campaign/campaign';
import { migrateToLatest } from '../db/migrator';
import { upsertDonor } from '../giving/donors';
import { recordPayment } from '../giving/payments';
import { createPledge } from '../giving/pledges';
import { applyForGroup, approveGroup } from '../groups/applications';
import { linkMemberAccount } from '../groups/membership';
import type { Command } from './command';

/**
 * npm run seed: demo data for a local Haven, posted through the same functions the app uses,
 * so the campaign page shows progress. Running it twice adds nothing the second time.
 */
const DEMO_GIFTS = [
  { name: 'Grace Park', email: 'grace.park@demo.haven.test', amountCents: 250_000, method: 'card' as const, paid: 1 },
  { name: 'Daniel Tremblay', email: 'daniel.tremblay@demo.haven.test', amountCents: 50_000, method: 'cheque' as const, paid: 1 },
  { name: 'Min-ji Lee', email: 'minji.lee@demo.haven.test', amountCents: 10_000, method: 'etransfer' as const, paid: 2, installments: 12 },
  { name: 'Toronto Korean Church', email: 'office@demo.haven.test', amountCents: 1_000_000, method: 'cheque' as const, paid: 0 },
  { name: 'Anonymous friend', email: 'friend@demo.haven.test', amountCents: 500_000, method: 'card' as const, paid: 1, anonymous: true },
];

const DEMO_STAFF = { email: 'staff@demo.haven.test', name: 'Demo Staff' };
const DEMO_COORDINATOR = { email: 'coordinator@demo.haven.test', name: 'Demo Coordinator' };

export const seedCommand: Command = {
  parse: (argv) => (argv.length === 0 ? { ok: true } : { ok: false, usage: 'Usage: npm run seed' }),
  async run(db, config) {
    const lines: string[] = [];
    await migrateToLatest(db);
    const campaign = await requireCurrentCampaign(db);
    const already = await db.selectFrom('donors').select('id').where('email', 'like', '%@demo.haven.test').executeTakeFirst();
    if (already) {
      lines.push('Demo gifts are already in place.');
    } else {
      let reference = 1000;
      for (const gift of DEMO_GIFTS) {
        await db.transaction().execute(async (trx) => {
          const donorId = await upsertDonor(trx, { name: gift.name, email: gift.email, city: 'Toronto', province: 'ON', country: 'CA' });
          const pledgeId = await createPledge(trx, {
            campaignId: campaign.id,
            donorId,
            groupId: null,
            amountCents: gift.amountCents,
            frequency: gift.installments ? 'monthly' : 'once',
            installments: gift.installments ?? null,
            method: gift.method,
            anonymous: gift.anonymous ?? false,
          });
          for (let i = 0; i < gift.paid; i++) {
            const card = gift.method === 'card';
            await recordPayment(trx, {
              pledgeId,
              amountCents: gift.amountCents,
              // Stripe's Canadian card rate: 2.9% + 30¢, rounded to the cent.
              feeCents: card ? Math.round(gift.amountCents * 0.029) + 30 : 0,
              method: gift.method,
              reference: card ? null : `DEMO-${reference++}`,
              stripeChargeId: card ? `ch_demo_${pledgeId}_${i}` : null,
              receivedAt: new Date(),
            });
          }
        });
      }
      lines.push(`Seeded ${DEMO_GIFTS.length} demo donors and their gifts.`);
    }

    // A demo staff login. Its password is new on every run (printed here only), so a seeded
    // database never carries a password anyone could read in this file.
    const password = randomBytes(12).toString('base64url');
    const staff = await findUserByEmail(db, DEMO_STAFF.email);
    if (staff) await setPassword(db, staff.id, password);
    const staffId = staff?.id ?? (await createUser(db, { ...DEMO_STAFF, role: 'staff', password }));
    await makeAdministrator(db, staffId); // the first staff account may invite the others
    lines.push(`Demo staff login: ${DEMO_STAFF.email} / ${password}  (sign in at ${config.publicUrl}/sign-in)`);

    // A demo sponsor group, approved, with its coordinator's login (password printed, as above).
    let group = await db.selectFrom('sponsor_groups').select('id').where('slug', '=', 'toronto-welcome-circle').executeTakeFirst();
    if (!group) {
      group = await db.transaction().execute(async (trx) => {
        const created = await applyForGroup(
          trx,
          {
            name: 'Toronto Welcome Circle',
            city: 'Toronto',
            province: 'ON',
            coordinatorName: DEMO_COORDINATOR.name,
            coordinatorEmail: DEMO_COORDINATOR.email,
            languages: ['ko', 'en'],
            familySize: 3,
            story: 'We are **twelve neighbours** in North York: a retired teacher, two nurses, a church choir.\n\nFour of us speak Korean.',
            locale: 'en',
          },
        );
        await approveGroup(trx, { userId: null, label: 'npm run seed' }, created.id, config.publicUrl);
        return created;
      });
    }
    const coordinatorPassword = randomBytes(12).toString('base64url');
    const coordinator = await findUserByEmail(db, DEMO_COORDINATOR.email);
    const coordinatorId = coordinator?.id ?? (await createUser(db, { ...DEMO_COORDINATOR, role: 'sponsor', password: coordinatorPassword }));
    if (coordinator) await setPassword(db, coordinator.id, coordinatorPassword);
    const groupId = group.id;
    await db.transaction().execute((trx) => linkMemberAccount(trx, groupId, DEMO_COORDINATOR.email, coordinatorId));
    lines.push(`Demo group coordinator login: ${DEMO_COORDINATOR.email} / ${coordinatorPassword}  (workspace at ${config.publicUrl}/group)`);
    return { lines, exitCode: 0 };
  },
};
