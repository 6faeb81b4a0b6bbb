import { type Kysely, sql } from 'kysely';

/**
 * The double-entry ledger. The database itself refuses an unbalanced transaction (a deferred
 * constraint trigger checked at commit), refuses edits to posted entries, and keeps
 * ledger_balances (per account and per account prefix, sharded) in the same transaction.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ledger_transactions (
      id bigint generated always as identity primary key,
      kind text not null check (kind ~ '^[a-z_]+$'),
      description text not null,
      payment_id bigint references payments (id),
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index ledger_transactions_payment_idx on ledger_transactions (payment_id) where payment_id is not null`.execute(db);
  await sql`create index ledger_transactions_created_idx on ledger_transactions (created_at)`.execute(db);

  await sql`
    create table ledger_entries (
      id bigint generated always as identity primary key,
      transaction_id bigint not null references ledger_transactions (id),
      account text not null check (account ~ '^[a-z]+(:[a-z0-9_]+)*$'),
      amount_cents bigint not null check (amount_cents <> 0)
    )`.execute(db);
  await sql`create index ledger_entries_transaction_idx on ledger_entries (transaction_id)`.execute(db);
  await sql`create index ledger_entries_account_idx on ledger_entries (account)`.execute(db);

  await sql`
    create table ledger_balances (
      account text not null,
      shard smallint not null,
      balance_cents bigint not null,
      primary key (account, shard)
    )`.execute(db);

  // Zero-sum: every transaction's entries add up to 0, and there are at least two of them.
  await sql`
    create function ledger_check_balanced() returns trigger language plpgsql as $$
    declare
      txn bigint;
      total numeric;
      legs integer;
    begin
      if tg_table_name = 'ledger_transactions' then txn := new.id; else txn := new.transaction_id; end if;
      select coalesce(sum(amount_cents), 0), count(*) into total, legs from ledger_entries where transaction_id = txn;
      if total <> 0 or legs < 2 then
        raise exception 'ledger transaction % is unbalanced (% entries summing to % cents)', txn, legs, total
          using errcode = '23514';
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create constraint trigger ledger_entries_balanced after insert on ledger_entries
    deferrable initially deferred for each row execute function ledger_check_balanced()`.execute(db);
  await sql`
    create constraint trigger ledger_transactions_balanced after insert on ledger_transactions
    deferrable initially deferred for each row execute function ledger_check_balanced()`.execute(db);

  // Posted entries are history: corrections are new reversing transactions.
  await sql`
    create function ledger_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger entries are append-only; post a reversing transaction instead' using errcode = '55000';
    end $$`.execute(db);
  await sql`
    create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each statement execute function ledger_refuse_change()`.execute(db);

  // Balances for the account and each of its prefixes ('fund:group:7' also counts toward
  // 'fund:group' and 'fund'), so any total is a read of at most eight rows.
  await sql`
    create function ledger_apply_balance() returns trigger language plpgsql as $$
    declare
      parts text[] := string_to_array(new.account, ':');
      prefix text := '';
      i integer;
    begin
      for i in 1 .. array_length(parts, 1) loop
        prefix := case when i = 1 then parts[1] else prefix || ':' || parts[i] end;
        insert into ledger_balances (account, shard, balance_cents)
        values (prefix, pg_backend_pid() % 8, new.amount_cents)
        on conflict (account, shard) do update set balance_cents = ledger_balances.balance_cents + excluded.balance_cents;
      end loop;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger ledger_entries_balance after insert on ledger_entries
    for each row execute function ledger_apply_balance()`.execute(db);
}
