import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table campaigns (
      id bigint generated always as identity primary key,
      slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
      title text not null check (char_length(title) between 1 and 200),
      summary text not null,
      story text not null,
      goal_cents bigint not null check (goal_cents > 0),
      families_goal integer not null check (families_goal > 0),
      currency text not null default 'CAD' check (currency = 'CAD'),
      status text not null default 'active' check (status in ('draft', 'active', 'closed')),
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    insert into campaigns (slug, title, summary, story, goal_cents, families_goal) values (
      'five-families',
      'Bring five families to safety',
      'HanVoice and the Government of Canada are resettling five North Korean refugee families. Sponsor groups across Canada will welcome them; your gift funds their first year.',
      ${FIRST_CAMPAIGN_STORY},
      25000000,
      5
    )`.execute(db);
}

const FIRST_CAMPAIGN_STORY = [
  'North Koreans who escape their country wait, often for years, in third countries where they risk being sent back. Women and their children are the most exposed: many have survived or are at risk of sexual and gender-based violence.',
  'In a pilot with Immigration, Refugees and Citizenship Canada, HanVoice will resettle five government-vetted families within two years. Each family is welcomed by a sponsor group of volunteers in the community where it will live, who support it for its first twelve months, or until it can support itself.',
  'A family’s first year costs about $50,000: furniture, winter clothing and a first month’s rent on arrival, then rent, food, transport and a phone every month. Every dollar you give is held for the program, recorded in an audited ledger, and receipted for income tax.',
].join('\n\n');
