import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';

export type GroupInvitation = {
  groupId: number;
  memberId: number;
  name: string;
  email: string;
  role: 'coordinator' | 'member';
  locale: 'en' | 'fr';
};

/**
 * THE call site for the accounts branch's invitations: every group invitation (the coordinator
 * on application, members added by the coordinator) goes through here.
 *
 * TODO(accounts): once the accounts branch lands, call its create-invitation-in-a-transaction
 * function here (role 'sponsor', this group) and, on acceptance, set group_members.user_id.
 * Until then the member row (name, e-mail, role) is the record of the invitation, and
 * groupMembershipOf() links a signed-in user to it by e-mail.
 */
export async function inviteToGroup(_trx: Transaction<Database>, _invitation: GroupInvitation): Promise<void> {
  // Intentionally empty until accounts merges (see above).
}
