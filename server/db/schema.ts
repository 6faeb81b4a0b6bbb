import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for Kysely. bigint columns arrive as JS numbers: server/db/database.ts
 * registers an int8 parser that refuses values beyond Number.MAX_SAFE_INTEGER.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

type Id = Generated<number>;

export interface CampaignsTable {
  id: Id;
  slug: string;
  title: string;
  summary: string;
  story: string;
  title_fr: string | null;
  summary_fr: string | null;
  story_fr: string | null;
  title_ko: string | null;
  summary_ko: string | null;
  story_ko: string | null;
  goal_cents: number;
  families_goal: number;
  currency: Generated<string>;
  status: Generated<'draft' | 'active' | 'closed'>;
  created_at: CreatedAt;
}

export interface CampaignCountersTable {
  campaign_id: number;
  shard: number;
  donor_count: number;
}

export interface CampaignDonorsTable {
  campaign_id: number;
  donor_id: number;
  first_gift_at: Timestamp;
}

export interface DonorsTable {
  id: Id;
  email: string;
  name: string;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  country: Generated<string>;
  locale: Generated<'en' | 'fr' | 'ko'>;
  /** The language of this donor's official receipts (English or French only, CRA); null: their own where it is one, else English. */
  receipt_locale: 'en' | 'fr' | null;
  /** null: the default (annual for monthly donors, else per gift); see server/receipts. */
  receipt_frequency: ReceiptFrequency | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** When the donor (through a link sent to the e-mail) or staff last set this record; null: as the first gift typed it. */
  confirmed_at: Date | null;
  /** Staff merged this record into another (server/giving/donor-merges.ts). */
  merged_into_donor_id: number | null;
}

export type PledgeStatus = 'pending' | 'active' | 'fulfilled' | 'cancelled' | 'lapsed';

export type PledgeMethod = 'card' | 'cheque' | 'etransfer';

export interface PledgesTable {
  id: Id;
  campaign_id: number;
  donor_id: number;
  /** A non-binding preference for a sponsor group (CRA: the charity decides). */
  group_id: number | null;
  amount_cents: number;
  fee_cover_cents: Generated<number>;
  committed_cents: number | null;
  frequency: 'once' | 'monthly';
  installments: number | null;
  method: PledgeMethod;
  status: Generated<PledgeStatus>;
  anonymous: Generated<boolean>;
  display_name: string | null;
  public_message: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  stripe_checkout_session_id: string | null;
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  wall_consent: Generated<boolean>;
  ended_at: Date | null;
}

export type PaymentMethod = 'card' | 'cheque' | 'etransfer' | 'cash';

export type PaymentStatus = 'succeeded' | 'refunded' | 'partially_refunded' | 'disputed' | 'voided';

export interface PaymentsTable {
  id: Id;
  pledge_id: number;
  amount_cents: number;
  fee_cents: Generated<number>;
  refunded_cents: Generated<number>;
  method: PaymentMethod;
  status: Generated<PaymentStatus>;
  reference: string | null;
  stripe_payment_intent_id: string | null;
  stripe_charge_id: string | null;
  stripe_invoice_id: string | null;
  receiptable: Generated<boolean>;
  received_at: Timestamp;
  created_at: CreatedAt;
  /** Issue 15: the date staff typed for an offline payment (null for card: received_at is Stripe's instant). */
  received_on: ColumnType<string | null, string | null | undefined, string | null>;
  advantage_cents: Generated<number>;
  advantage_description: string | null;
  voided_at: Date | null;
  void_reason: string | null;
  corrects_payment_id: number | null;
}

export interface LedgerTransactionsTable {
  id: Id;
  kind: string;
  description: string;
  payment_id: number | null;
  created_at: CreatedAt;
}

export interface LedgerEntriesTable {
  id: Id;
  transaction_id: number;
  account: string;
  amount_cents: number;
}

export interface LedgerBalancesTable {
  account: string;
  shard: number;
  balance_cents: number;
}

export interface CostTablesTable {
  id: Id;
  edition_on: ColumnType<string, string, string>;
  family_size: number;
  income_support_cents: number;
  startup_cents: number;
  created_at: CreatedAt;
}

export interface OutboxTable {
  id: Id;
  kind: 'email';
  payload: ColumnType<unknown, string, string>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  sent_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Id;
  actor_user_id: number | null;
  actor_label: string;
  action: string;
  subject: string;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  at: CreatedAt;
}

export type UserRole = 'staff' | 'sponsor';

export interface UsersTable {
  id: Id;
  /** Always stored lower-cased and trimmed (server/accounts/users.ts normalizeEmail). */
  email: string;
  name: string;
  /** argon2id; null until the person sets a password (a new staff account from create-staff). */
  password_hash: string | null;
  role: UserRole;
  /** Staff only: may invite staff and disable or enable staff accounts. */
  is_administrator: Generated<boolean>;
  /** The language of the person's latest signed-in page (sessions.ts): e-mails sent by jobs use it. */
  locale: Generated<'en' | 'fr' | 'ko'>;
  disabled_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie's token. */
  token_hash: string;
  user_id: number;
  created_at: CreatedAt;
  expires_at: Timestamp;
  /** The last request on this session (touched at most once a minute): the idle timeout's clock. */
  last_seen_at: Generated<Date>;
  /** The second sign-in step this session passed (null: the password alone); see server/accounts/second-factor.ts. */
  second_factor: SecondFactor | null;
  /** Until when this session may set up a first passkey or code (granted by an invitation or a set-up link). */
  enrol_until: Date | null;
  /** The outstanding WebAuthn challenge (base64url) and its expiry. */
  challenge: string | null;
  challenge_expires_at: Date | null;
}

export type SecondFactor = 'passkey' | 'totp' | 'recovery_code';

export interface PasskeysTable {
  id: Id;
  user_id: number;
  /** base64url of the WebAuthn credential id. */
  credential_id: string;
  /** COSE public key. */
  public_key: Buffer;
  sign_count: number;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  backed_up: Generated<boolean>;
  name: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
}

export interface TotpAuthenticatorsTable {
  user_id: number;
  sealed_secret: Buffer;
  last_time_step: Generated<number>;
  confirmed_at: Date | null;
  created_at: CreatedAt;
}

export interface RecoveryCodesTable {
  id: Id;
  user_id: number;
  code_hash: string;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface EnrolmentLinksTable {
  id: Id;
  user_id: number;
  kind: 'new_account' | 'staff_reset' | 'self';
  issued_by_user_id: number | null;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface InvitationsTable {
  id: Id;
  email: string;
  role: UserRole;
  group_id: number | null;
  invited_by_user_id: number | null;
  token_hash: string;
  expires_at: Timestamp;
  accepted_at: Date | null;
  accepted_user_id: number | null;
  created_at: CreatedAt;
}

export interface PasswordResetsTable {
  id: Id;
  user_id: number;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: CreatedAt;
}

/** One-time sign-in links, e-mailed once an account's sign-in attempts are used up (accounts/sign-in-links.ts). */
export interface SignInLinksTable {
  id: Id;
  user_id: number;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface RateLimitsTable {
  key: string;
  window_started_at: Timestamp;
  hits: number;
}

export type ReceiptFrequency = 'per_gift' | 'annual';

export interface ReceiptsTable {
  id: Id;
  serial: string;
  donor_id: number;
  frequency: ReceiptFrequency;
  tax_year: number;
  amount_cents: number;
  advantage_cents: Generated<number>;
  advantage_description: string | null;
  eligible_amount_cents: number;
  received_from: ColumnType<string, string, string>;
  received_to: ColumnType<string, string, string>;
  issued_at: Generated<Date>;
  /** The charity's date of issue (null: issued before 2026-12-01, read in America/Toronto). */
  issued_on: ColumnType<string | null, string | null | undefined, never>;
  donor_name: string;
  donor_address: string;
  /** Official receipts are in English or French only (CRA), whatever the donor's language. */
  locale: 'en' | 'fr';
  charity_name: string;
  charity_address: string;
  charity_registration_number: string;
  place_of_issue: string;
  signatory_name: string;
  signatory_title: string;
  status: Generated<'issued' | 'cancelled'>;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  replaces_receipt_id: number | null;
  download_token_hash: string;
  /** The signature image printed on this receipt (null: issued before one was uploaded). */
  signature_id: number | null;
}

export interface ReceiptPaymentsTable {
  receipt_id: number;
  payment_id: number;
  amount_cents: number;
  in_force: Generated<boolean>;
  /** The charity's date the gift was received, as receipted (null: lines issued before 2026-12-01). */
  received_on: ColumnType<string | null, string | null | undefined, never>;
}

export type GroupStatus = 'applied' | 'approved' | 'rejected';

export interface SponsorGroupsTable {
  id: Id;
  slug: string;
  name: string;
  city: string;
  province: string;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  family_size: number;
  story: Generated<string>;
  /** The story in Korean, for Korean pages ('' until the group writes it). */
  story_ko: Generated<string>;
  /** The story rendered and sanitized when it was saved (server/groups/story.ts), what its page shows. */
  story_html: Generated<string>;
  /** The Korean story rendered and sanitized when it was saved ('' until the group writes it). */
  story_ko_html: Generated<string>;
  /** The story in French, for French pages ('' until the group writes it), and as rendered when saved. */
  story_fr: Generated<string>;
  story_fr_html: Generated<string>;
  status: Generated<GroupStatus>;
  rejection_reason: string | null;
  coordinator_name: string;
  coordinator_email: string;
  locale: Generated<'en' | 'fr' | 'ko'>;
  decided_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface GroupMembersTable {
  id: Id;
  group_id: number;
  user_id: number | null;
  name: string;
  email: string;
  role: GroupRole;
  created_at: CreatedAt;
  removed_at: Date | null;
}

/** coordinator: leads the group and decides for it; treasurer: its money; member: everyone else. */
export type GroupRole = 'coordinator' | 'treasurer' | 'member';

export interface SettlementAssignmentsTable {
  group_id: number;
  area: string;
  member_id: number;
  created_at: CreatedAt;
}

export interface InKindCommitmentsTable {
  id: Id;
  group_id: number;
  category: string;
  description: string;
  value_cents: number;
  evidence_note: string;
  donor_is_party: Generated<boolean>;
  status: Generated<'offered' | 'confirmed' | 'received' | 'withdrawn'>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** The staff member who confirmed the item: only verified items count toward readiness. */
  verified_by: ColumnType<number | null, number | null | undefined, number | null>;
  verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface HousingSharesTable {
  id: Id;
  basis_points: number;
  source: string;
  recorded_by: number | null;
  recorded_at: CreatedAt;
}

export interface GroupRequirementsTable {
  group_id: number;
  edition_on: ColumnType<string, string, string>;
  family_size: number;
  income_support_cents: number;
  startup_cents: number;
  set_at: Timestamp;
}

export interface GroupChecksTable {
  group_id: number;
  check_name: 'training' | 'background_checks';
  done: boolean;
  note: string | null;
  recorded_by_user_id: number | null;
  recorded_at: Timestamp;
}

export type FamilyStatus = 'referred' | 'available' | 'matched' | 'arrived' | 'self_sufficient' | 'closed' | 'withdrawn';

export type FamilyNeed = 'wheelchair_access' | 'large_housing' | 'childcare' | 'school_enrolment' | 'interpretation' | 'dietary' | 'mental_health';

/** What matching needs to know about a family. Nothing here identifies anyone: see family_identities. */
export interface FamiliesTable {
  id: Id;
  case_code: string;
  size: number;
  adults: number;
  children: number;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  needs: ColumnType<FamilyNeed[], FamilyNeed[] | undefined, FamilyNeed[]>;
  sgbv_survivor: Generated<boolean>;
  medical_needs: Generated<boolean>;
  trauma_informed_support: Generated<boolean>;
  preferred_region: string | null;
  vetting_status: Generated<'pending' | 'cleared' | 'refused'>;
  vetted_on: ColumnType<string | null, string | null | undefined, string | null>;
  status: Generated<FamilyStatus>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** The day support ended (closed, withdrawn, self-sufficient without a schedule); see server/families/retention.ts. */
  support_ended_on: ColumnType<string | null, string | null | undefined, string | null>;
  /** The charity's date the staff were warned of the coming deletion. */
  identity_purge_warned_on: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set when the identity was deleted under the retention rule: it can never be written again. */
  identity_purged_at: Date | null;
}

/** AES-256-GCM ciphertext of a family's identifying data; read only by server/families/identities.ts. */
export interface FamilyIdentitiesTable {
  family_id: number;
  format: number;
  key_id: string;
  iv: Buffer;
  auth_tag: Buffer;
  ciphertext: Buffer;
  updated_at: Timestamp;
}

export type MatchStatus = 'proposed' | 'approved' | 'rejected' | 'withdrawn' | 'expired';

export interface MatchesTable {
  id: Id;
  family_id: number;
  group_id: number;
  status: Generated<MatchStatus>;
  score: number;
  score_parts: ColumnType<unknown, string, string>;
  proposed_by: number;
  proposed_at: CreatedAt;
  hold_expires_at: Timestamp;
  decided_by: number | null;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  reason: string | null;
  shared_fields: ColumnType<string[], string[] | undefined, string[]>;
  /** Staff's reason for proposing an SGBV survivor's family to a group without SGBV-informed support. */
  sgbv_override_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MatchingPrioritiesTable {
  position: number;
  need: 'sgbv_survivor' | 'medical_needs' | 'trauma_informed_support';
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface GroupSupportOffersTable {
  group_id: number;
  sgbv_informed_support: Generated<boolean>;
  medical_support: Generated<boolean>;
  trauma_informed_support: Generated<boolean>;
  recorded_by: number | null;
  recorded_at: Timestamp;
}

export interface Database {
  campaigns: CampaignsTable;
  campaign_counters: CampaignCountersTable;
  campaign_donors: CampaignDonorsTable;
  donors: DonorsTable;
  pledges: PledgesTable;
  payments: PaymentsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_balances: LedgerBalancesTable;
  cost_tables: CostTablesTable;
  outbox: OutboxTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  passkeys: PasskeysTable;
  totp_authenticators: TotpAuthenticatorsTable;
  recovery_codes: RecoveryCodesTable;
  enrolment_links: EnrolmentLinksTable;
  invitations: InvitationsTable;
  password_resets: PasswordResetsTable;
  sign_in_links: SignInLinksTable;
  rate_limits: RateLimitsTable;
  receipts: ReceiptsTable;
  receipt_payments: ReceiptPaymentsTable;
  sponsor_groups: SponsorGroupsTable;
  group_members: GroupMembersTable;
  settlement_assignments: SettlementAssignmentsTable;
  in_kind_commitments: InKindCommitmentsTable;
  group_requirements: GroupRequirementsTable;
  group_checks: GroupChecksTable;
  families: FamiliesTable;
  family_identities: FamilyIdentitiesTable;
  matches: MatchesTable;
  group_support_offers: GroupSupportOffersTable;
  matching_priorities: MatchingPrioritiesTable;
  housing_shares: HousingSharesTable;
  support_schedules: SupportSchedulesTable;
  schedule_payees: SchedulePayeesTable;
  schedule_installments: ScheduleInstallmentsTable;
  disbursements: DisbursementsTable;
  schedule_events: ScheduleEventsTable;
  stripe_events: StripeEventsTable;
  pledge_installments: PledgeInstallmentsTable;
  stripe_disputes: StripeDisputesTable;
  stripe_dispute_balance_transactions: StripeDisputeBalanceTransactionsTable;
  stripe_refunds: StripeRefundsTable;
  stripe_calls: StripeCallsTable;
  installation: InstallationTable;
  // Donor identity, links, merges; receipt signatures and documents (issue 14).
  pledge_donor_details: PledgeDonorDetailsTable;
  pledge_donors: PledgeDonorsView;
  donor_links: DonorLinksTable;
  donor_merges: DonorMergesTable;
  receipt_signatures: ReceiptSignaturesTable;
  group_photos: GroupPhotosTable;
  receipt_documents: ReceiptDocumentsTable;
  stripe_payouts: StripePayoutsTable;
  // Periodic jobs run once across processes; overdue reminders once per coordinator per week (issue 21).
  scheduled_jobs: ScheduledJobsTable;
  overdue_reminders: OverdueRemindersTable;
}

/** One periodic job (server/jobs/scheduler.ts): when it runs next, who holds it, how it last went. */
export interface ScheduledJobsTable {
  name: string;
  every_seconds: number;
  next_run_at: Date;
  lease_until: Date | null;
  leased_by: string | null;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_succeeded_at: Date | null;
  last_failed_at: Date | null;
  last_error: string | null;
  last_result: ColumnType<unknown, string | null, string | null>;
  runs: Generated<number>;
  failures: Generated<number>;
}

/** A coordinator (group_members row) reminded of overdue instalments in the week starting week_of (a Monday). */
export interface OverdueRemindersTable {
  group_member_id: number;
  week_of: string;
  created_at: CreatedAt;
}

/** This installation of Haven: one row, made with the database. */
export interface InstallationTable {
  singleton: Generated<boolean>;
  id: Generated<string>;
  created_at: CreatedAt;
}

/** The details typed on a gift that differ from its donor's record (server/giving/README.md). */
export interface PledgeDonorDetailsTable {
  pledge_id: number;
  name: string;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  country: Generated<string>;
  locale: Generated<'en' | 'fr' | 'ko'>;
  receipt_locale: 'en' | 'fr' | null;
  created_at: CreatedAt;
}

/** View: whose name, address and language a pledge's receipts and e-mails carry. */
export interface PledgeDonorsView {
  pledge_id: number;
  donor_id: number;
  email: string;
  uses_record: boolean;
  name: string;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  country: string;
  locale: 'en' | 'fr' | 'ko';
  receipt_locale: 'en' | 'fr' | null;
}

export type DonorLinkPurpose = 'resume' | 'thanks' | 'cancel_monthly' | 'sign_in' | 'session' | 'confirm_details';

export interface DonorLinksTable {
  id: Id;
  token_hash: string;
  purpose: DonorLinkPurpose;
  pledge_id: number | null;
  donor_id: number | null;
  expires_at: Date | null;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface DonorMergesTable {
  id: Id;
  from_donor_id: number;
  into_donor_id: number;
  pledge_ids: ColumnType<number[], number[], never>;
  reason: string;
  merged_by_user_id: number | null;
  merged_at: CreatedAt;
  undone_at: Date | null;
  undone_by_user_id: number | null;
}

export type GroupPhotoStatus = 'pending' | 'approved' | 'rejected';

/** A group's public-page photo (server/groups/photos.ts): re-encoded without metadata, shown once staff approve it. */
export interface GroupPhotosTable {
  id: Id;
  group_id: number;
  bytes: Buffer;
  content_type: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  alt_text: string;
  status: Generated<GroupPhotoStatus>;
  uploaded_by: number | null;
  uploaded_at: CreatedAt;
  reviewed_by: number | null;
  reviewed_at: Date | null;
}

export interface ReceiptSignaturesTable {
  id: Id;
  image: Buffer;
  content_type: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  uploaded_by_user_id: number | null;
  uploaded_at: CreatedAt;
}

export interface ReceiptDocumentsTable {
  receipt_id: number;
  pdf: Buffer;
  sha256: string;
  created_at: CreatedAt;
}

/** Issue 15: Stripe payouts to the bank (payout.paid, reversed by payout.failed). */
export interface StripePayoutsTable {
  id: string;
  amount_cents: number;
  currency: string;
  arrival_on: ColumnType<string, string, string>;
  status: 'paid' | 'failed';
  paid_transaction_id: number | null;
  failed_transaction_id: number | null;
  recorded_at: CreatedAt;
}

export interface SupportSchedulesTable {
  id: Id;
  family_id: number;
  group_id: number;
  arrival_on: string;
  months: Generated<number>;
  status: Generated<'active' | 'self_sufficient' | 'ended'>;
  rate_source: 'cost_table' | 'community';
  cost_edition_on: string | null;
  annual_income_support_cents: number;
  startup_cents: number;
  created_by: number;
  created_at: CreatedAt;
}

export interface SchedulePayeesTable {
  id: Id;
  schedule_id: number;
  position: number;
  label: string;
}

/** A pledge's instalments are InstallmentStatus; a support schedule's are this. */
/** `tapered`: earned income reduced it to $0; `waived`: planned at $0. Neither is ever overdue. */
export type ScheduleInstallmentStatus = 'due' | 'partly_paid' | 'paid' | 'skipped' | 'tapered' | 'waived';

export type InstallmentStatus = 'due' | 'paid' | 'failed' | 'cancelled';

export interface ScheduleInstallmentsTable {
  id: Id;
  schedule_id: number;
  payee_id: number;
  kind: 'startup' | 'monthly';
  month_index: number;
  due_on: string;
  amount_cents: number;
  paid_cents: Generated<number>;
  status: Generated<ScheduleInstallmentStatus>;
  skip_reason: string | null;
  reminded_at: Date | null;
}

export interface DisbursementsTable {
  id: Id;
  installment_id: number;
  amount_cents: number;
  paid_on: string;
  method: 'direct_deposit' | 'etransfer' | 'cheque' | 'cash';
  reference: string | null;
  ledger_transaction_id: number;
  recorded_by: number;
  created_at: CreatedAt;
}

export interface ScheduleEventsTable {
  id: Id;
  schedule_id: number;
  kind:
    | 'arrived'
    | 'disbursed'
    | 'skipped'
    | 'earnings_reported'
    | 'self_sufficient'
    | 'resumed'
    | 'extension_requested'
    | 'extension_approved'
    | 'extension_declined';
  months: number | null;
  amount_cents: number | null;
  effective_on: string | null;
  reason: string | null;
  status: 'pending' | 'approved' | 'declined' | null;
  actor_user_id: number | null;
  at: CreatedAt;
}

export interface StripeEventsTable {
  id: string;
  type: string;
  object_id: string | null;
  stripe_created_at: Timestamp;
  received_at: CreatedAt;
  payload: ColumnType<unknown, string, never>;
  /** Set in the transaction that applied the event's effect; null while it waits in the queue. */
  processed_at: Date | null;
  /** How many times the event was leased for processing. */
  attempts: Generated<number>;
  /** When the event is next due: now on arrival, pushed ahead while leased and after a failure. */
  next_attempt_at: Generated<Date>;
  /** Why the last attempt failed (ids and messages only), cleared when the event is applied. */
  last_error: string | null;
  /** Set when Haven cannot read the event correctly: it waits for staff, with the reason. */
  held_at: Date | null;
  held_reason: string | null;
  /** Staff asked for the event's object to be read again from Stripe's API before applying it. */
  read_from_api: Generated<boolean>;
}

export interface PledgeInstallmentsTable {
  id: Id;
  pledge_id: number;
  seq: number;
  due_on: ColumnType<string, string, string>;
  amount_cents: number;
  status: Generated<InstallmentStatus>;
  payment_id: number | null;
  stripe_invoice_id: string | null;
  reminded_at: Date | null;
}

export interface StripeDisputesTable {
  id: string;
  payment_id: number;
  amount_cents: number;
  fee_cents: Generated<number>;
  status: string;
  reversed: Generated<boolean>;
  opened_at: Generated<Date>;
  closed_at: Date | null;
  /** When Stripe reported the current status (the event's created time). */
  status_at: Date | null;
}

export type StripeCallKind = 'end_subscription_at_term' | 'cancel_subscription';

/** A call to Stripe Haven must not lose (an outbox row), made and retried by the Stripe event processor. */
export interface StripeCallsTable {
  id: Id;
  kind: StripeCallKind;
  pledge_id: number;
  subscription_id: string;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  /** What Stripe's answer meant, once done (e.g. "cancel_at 1767225600", "was already cancelled"). */
  outcome: string | null;
  done_at: Date | null;
  created_at: CreatedAt;
}

/** A Stripe refund of a card payment: `counted` while its money is out; failed or canceled refunds are not. */
export interface StripeRefundsTable {
  id: string;
  payment_id: number;
  amount_cents: number;
  status: string;
  counted: boolean;
  updated_at: Generated<Date>;
}

/** A dispute's balance transaction (funds withdrawn or reinstated), posted to the ledger once. */
export interface StripeDisputeBalanceTransactionsTable {
  id: string;
  dispute_id: string;
  payment_id: number;
  amount_cents: number;
  fee_cents: number;
  net_cents: number;
  ledger_transaction_id: number;
  created_at: CreatedAt;
}
