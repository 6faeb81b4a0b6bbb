import type { Transaction } from 'kysely';
import { writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { createEnrolmentLink } from './enrolment-links';
import { createUser, findUserByEmail } from './users';

/**
 * npm run create-staff: a staff account without a password, and a one-time set-up link: the
 * person chooses a password and enrols a passkey (someone with the server's configuration ran
 * this, so the link may grant that). Run again for an existing staff address, it issues a fresh
 * link (the old one may have expired, or a passkey was lost); the password is chosen anew.
 */
export async function createStaffAccount(
  trx: Transaction<Database>,
  input: { email: string; name: string; publicUrl: string },
): Promise<{ userId: number; link: string; created: boolean }> {
  const existing = await findUserByEmail(trx, input.email);
  if (existing && existing.role !== 'staff') throw new DomainError('conflict', `${existing.email} already has a sponsor account.`);
  const created = !existing;
  const userId = existing?.id ?? (await createUser(trx, { email: input.email, name: input.name, role: 'staff' }));
  const token = await createEnrolmentLink(trx, { userId, kind: 'new_account', issuedBy: null });
  await writeAudit(trx, {
    actor: { userId: null, label: 'npm run create-staff' },
    action: created ? 'user.created' : 'user.password_link_issued',
    subject: `user:${userId}`,
    details: { role: 'staff' },
  });
  return { userId, created, link: `${input.publicUrl}/enrol?token=${token}` };
}
