import type { Transaction } from 'kysely';
import { writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { createPasswordResetToken, SET_PASSWORD_HOURS } from './password-resets';
import { createUser, findUserByEmail, makeAdministrator } from './users';

/**
 * npm run create-staff: a staff administrator without a password, and a one-time link to set it.
 * Run again for an existing staff address, it issues a fresh link (the old one may have expired)
 * and makes the account an administrator: whoever runs it has the machine, which decides.
 */
export async function createStaffAccount(
  trx: Transaction<Database>,
  input: { email: string; name: string; publicUrl: string },
): Promise<{ userId: number; link: string; created: boolean }> {
  const existing = await findUserByEmail(trx, input.email);
  if (existing && existing.role !== 'staff') throw new DomainError('conflict', `${existing.email} already has a sponsor account.`);
  const created = !existing;
  const userId = existing?.id ?? (await createUser(trx, { email: input.email, name: input.name, role: 'staff', administrator: true }));
  if (existing) await makeAdministrator(trx, userId);
  const token = await createPasswordResetToken(trx, userId, SET_PASSWORD_HOURS * 60);
  await writeAudit(trx, {
    actor: { userId: null, label: 'npm run create-staff' },
    action: created ? 'user.created' : 'user.password_link_issued',
    subject: `user:${userId}`,
    details: { role: 'staff', administrator: true },
  });
  return { userId, created, link: `${input.publicUrl}/reset-password?token=${token}` };
}
