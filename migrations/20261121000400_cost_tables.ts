import { type Kysely, sql } from 'kysely';

/**
 * IRCC's Sponsorship Cost Table as dated data (shared/DOMAIN.md). Staff add new editions;
 * family_size 0 holds the amounts for each member beyond the largest listed size.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table cost_tables (
      id bigint generated always as identity primary key,
      edition_on date not null,
      family_size integer not null check (family_size between 0 and 20),
      income_support_cents bigint not null check (income_support_cents >= 0),
      startup_cents bigint not null check (startup_cents >= 0),
      created_at timestamptz not null default now(),
      unique (edition_on, family_size)
    )`.execute(db);

  const edition20180501: [number, number, number][] = [
    [1, 1_320_000, 330_000],
    [2, 1_970_000, 510_000],
    [3, 2_040_000, 630_000],
    [4, 2_120_000, 750_000],
    [5, 2_370_000, 860_000],
    [6, 2_570_000, 980_000],
    [0, 160_000, 110_000],
  ];
  for (const [size, income, startup] of edition20180501) {
    await sql`
      insert into cost_tables (edition_on, family_size, income_support_cents, startup_cents)
      values ('2018-05-01', ${size}, ${income}, ${startup})`.execute(db);
  }
}
