import { type Kysely, sql } from 'kysely';

/**
 * The running balances (ledger_balances) and the campaign's donor count (campaign_counters) are
 * bumped when the transaction commits instead of when each entry is inserted: the triggers become
 * deferred constraint triggers. A shard row is then locked for the moment of the commit, not from
 * the first posting to the end of the transaction, so transactions that post money (Stripe events
 * applied by several workers and processes, gifts recorded at once) stop queuing behind each
 * other's shard rows while they do the rest of their work. Nothing reads a balance after posting
 * in the same transaction (a fund transfer reads what is available before it posts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger ledger_entries_balance on ledger_entries`.execute(db);
  await sql`
    create constraint trigger ledger_entries_balance after insert on ledger_entries
    deferrable initially deferred
    for each row execute function ledger_apply_balance()`.execute(db);
  await sql`drop trigger campaign_donors_count on campaign_donors`.execute(db);
  await sql`
    create constraint trigger campaign_donors_count after insert on campaign_donors
    deferrable initially deferred
    for each row execute function campaign_donors_count()`.execute(db);
  await sql`drop trigger campaign_donors_uncount on campaign_donors`.execute(db);
  await sql`
    create constraint trigger campaign_donors_uncount after delete on campaign_donors
    deferrable initially deferred
    for each row execute function campaign_donors_uncount()`.execute(db);
}
