import type { SecondFactor, UserRole } from '../db/schema';

/**
 * Who must pass a second sign-in step after the password, and which (see the accounts README):
 *
 * - staff: a passkey (WebAuthn: bound to Haven's address, so a phishing page cannot replay it),
 *   once STAFF_PASSKEYS=required (always in production) or once they have enrolled one; a
 *   one-time recovery code stands in for a lost passkey;
 * - sponsors: a passkey or an authenticator-app code (TOTP), once they have enrolled one, and
 *   always once their group is matched (every member can then open the family's shared details).
 *
 * A session that has not passed the step it needs is pending: it opens nothing but the sign-in
 * steps. This is decided on every request, so a new requirement (a group matched, passkeys made
 * required) applies to sessions already open.
 */
export type SignInPolicy = { staffPasskeys: 'required' | 'optional' };

export const DEFAULT_SIGN_IN_POLICY: SignInPolicy = { staffPasskeys: 'optional' };

/** What a session still needs: a passkey (staff), or any second factor (sponsors). */
export type MissingStep = 'passkey' | 'second_factor';

export type AccountFactors = { passkey: boolean; totp: boolean };

export type PendingSignIn = {
  userId: number;
  email: string;
  name: string;
  role: UserRole;
  needs: MissingStep;
  factors: AccountFactors;
  groupMatched: boolean;
};

export function missingStep(
  account: { role: UserRole; groupMatched: boolean; factors: AccountFactors; secondFactor: SecondFactor | null },
  policy: SignInPolicy,
): MissingStep | null {
  if (account.role === 'staff') {
    // TOTP is not a staff factor: a code typed into a look-alike page can be replayed.
    if (account.secondFactor === 'passkey' || account.secondFactor === 'recovery_code') return null;
    return policy.staffPasskeys === 'required' || account.factors.passkey ? 'passkey' : null;
  }
  if (account.secondFactor !== null) return null;
  return account.groupMatched || account.factors.passkey || account.factors.totp ? 'second_factor' : null;
}

/** Which factors a person may enrol: staff passkeys only; sponsors a passkey or an authenticator app. */
export function enrollableFactors(role: UserRole): ('passkey' | 'totp')[] {
  return role === 'staff' ? ['passkey'] : ['passkey', 'totp'];
}
