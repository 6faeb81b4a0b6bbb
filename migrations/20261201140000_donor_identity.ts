import { type Kysely, sql } from 'kysely';

/**
 * Donor identity that belongs to the donor (issue 14; server/donations/README.md).
 *
 * - A gift form no longer writes to `donors`: the details typed on a gift that differ from the
 *   donor's record are kept on the gift (`pledge_donor_details`); `pledge_donors` says, for each
 *   pledge, whose name, address and language its receipts and e-mails carry.
 * - `donors.confirmed_at`: when the donor (through a link sent to the e-mail) or staff last set the
 *   record. `merged_into_donor_id`: a record staff merged into another (reversible: `donor_merges`).
 * - `donor_links`: every link handed to a donor (resume form, thank-you page, cancelling a monthly
 *   gift, signing in to /donor, the donor page's session, confirming a gift's details): a random
 *   token stored only as its SHA-256, one purpose each, most with an expiry.
 * - `receipt_signatures`: the signature image staff upload, printed on receipts issued after it.
 * - `receipt_documents`: the PDF of a receipt exactly as issued (the unalterable copy).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table donors add column confirmed_at timestamptz`.execute(db);
  await sql`alter table donors add column merged_into_donor_id bigint references donors (id)`.execute(db);
  await sql`create index donors_merged_into_idx on donors (merged_into_donor_id) where merged_into_donor_id is not null`.execute(db);
  await sql`create index donors_name_idx on donors (lower(name))`.execute(db);

  await sql`
    create table pledge_donor_details (
      pledge_id bigint primary key references pledges (id),
      name text not null check (char_length(name) between 1 and 200),
      address_line1 text,
      address_line2 text,
      city text,
      province text,
      postal_code text,
      country text not null default 'CA',
      locale text not null default 'en' check (locale in ('en', 'fr')),
      created_at timestamptz not null default now()
    )`.execute(db);

  // The one rule of whose details a pledge carries: its own when it has them, else the donor's record.
  await sql`
    create view pledge_donors as
    select p.id as pledge_id, p.donor_id, d.email, (g.pledge_id is null) as uses_record,
      case when g.pledge_id is null then d.name else g.name end as name,
      case when g.pledge_id is null then d.address_line1 else g.address_line1 end as address_line1,
      case when g.pledge_id is null then d.address_line2 else g.address_line2 end as address_line2,
      case when g.pledge_id is null then d.city else g.city end as city,
      case when g.pledge_id is null then d.province else g.province end as province,
      case when g.pledge_id is null then d.postal_code else g.postal_code end as postal_code,
      case when g.pledge_id is null then d.country else g.country end as country,
      case when g.pledge_id is null then d.locale else g.locale end as locale
    from pledges p
    join donors d on d.id = p.donor_id
    left join pledge_donor_details g on g.pledge_id = p.id`.execute(db);

  await sql`
    create table donor_links (
      id bigint generated always as identity primary key,
      token_hash text not null unique,
      purpose text not null check (purpose in ('resume', 'thanks', 'cancel_monthly', 'sign_in', 'session', 'confirm_details')),
      pledge_id bigint references pledges (id),
      donor_id bigint references donors (id),
      expires_at timestamptz,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      check (pledge_id is not null or donor_id is not null)
    )`.execute(db);
  await sql`create index donor_links_expires_idx on donor_links (expires_at) where expires_at is not null`.execute(db);

  await sql`
    create table donor_merges (
      id bigint generated always as identity primary key,
      from_donor_id bigint not null references donors (id),
      into_donor_id bigint not null references donors (id),
      pledge_ids bigint[] not null,
      reason text not null check (char_length(reason) between 3 and 500),
      merged_by_user_id bigint,
      merged_at timestamptz not null default now(),
      undone_at timestamptz,
      undone_by_user_id bigint,
      check (from_donor_id <> into_donor_id)
    )`.execute(db);
  await sql`create index donor_merges_from_idx on donor_merges (from_donor_id)`.execute(db);
  await sql`create index donor_merges_into_idx on donor_merges (into_donor_id)`.execute(db);

  await sql`
    create table receipt_signatures (
      id bigint generated always as identity primary key,
      image bytea not null check (octet_length(image) between 1 and 1048576),
      content_type text not null check (content_type in ('image/png', 'image/jpeg')),
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      uploaded_by_user_id bigint,
      uploaded_at timestamptz not null default now()
    )`.execute(db);
  await sql`alter table receipts add column signature_id bigint references receipt_signatures (id)`.execute(db);

  await sql`
    create table receipt_documents (
      receipt_id bigint primary key references receipts (id),
      pdf bytea not null,
      sha256 text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create function receipt_documents_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'a receipt as issued is kept unaltered' using errcode = '55000';
    end $$`.execute(db);
  await sql`
    create trigger receipt_documents_immutable before update or delete on receipt_documents
    for each row execute function receipt_documents_refuse_change()`.execute(db);

  // The staff donor page lists the e-mails sent to a donor.
  await sql`create index outbox_to_idx on outbox (lower(payload->>'to'))`.execute(db);
}
