import type { Transaction } from 'kysely';
import { createInvitation } from '../accounts/invitations';
import type { Actor } from '../audit/audit';
import type { Database } from '../db/schema';
import type { Locale } from '../i18n/i18n';

export type GroupInvitation = {
  groupId: number;
  email: string;
  locale: Locale;
  invitedBy: Actor;
  /** Config.publicUrl, for the link in the e-mail. */
  publicUrl: string;
};

/**
 * Every group invitation (the coordinator on application, members added by the coordinator)
 * goes through here: a sponsor invitation for this group, from the accounts module. On
 * acceptance, accounts calls linkMemberAccount so the member row gets its user_id.
 */
export async function inviteToGroup(trx: Transaction<Database>, invitation: GroupInvitation): Promise<void> {
  await createInvitation(trx, {
    email: invitation.email,
    role: 'sponsor',
    invitedBy: invitation.invitedBy,
    groupId: invitation.groupId,
    locale: invitation.locale,
    publicUrl: invitation.publicUrl,
  });
}
