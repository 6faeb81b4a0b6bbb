import { type Kysely, sql } from 'kysely';

/**
 * Korean, the third language (issue 20).
 *
 * - Donors, gifts' own details, sponsor groups and users may speak Korean ('ko'): their e-mails
 *   and pages are in it.
 * - Official receipts stay in English or French (CRA): `receipts.locale` keeps its check, and a
 *   donor's `receipt_locale` ('en' or 'fr'; null: their own language where it is one, else English)
 *   says which a Korean-speaking donor chose. A gift's own details carry one too, and
 *   `pledge_donors` gives the one a pledge's receipts use, by the same rule as the rest.
 * - The campaign's title, summary and story in Korean, and each group's story in Korean: data, not
 *   messages, written by staff and by the group.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['donors', 'pledge_donor_details', 'sponsor_groups', 'users']) {
    await sql`alter table ${sql.table(table)} drop constraint ${sql.ref(`${table}_locale_check`)}`.execute(db);
    await sql`alter table ${sql.table(table)} add constraint ${sql.ref(`${table}_locale_check`)} check (locale in ('en', 'fr', 'ko'))`.execute(db);
  }
  await sql`alter table donors add column receipt_locale text check (receipt_locale in ('en', 'fr'))`.execute(db);
  await sql`alter table pledge_donor_details add column receipt_locale text check (receipt_locale in ('en', 'fr'))`.execute(db);
  // Same columns as before, one more at the end (create or replace view may only add columns after the others).
  await sql`
    create or replace view pledge_donors as
    select p.id as pledge_id, p.donor_id, d.email, (g.pledge_id is null) as uses_record,
      case when g.pledge_id is null then d.name else g.name end as name,
      case when g.pledge_id is null then d.address_line1 else g.address_line1 end as address_line1,
      case when g.pledge_id is null then d.address_line2 else g.address_line2 end as address_line2,
      case when g.pledge_id is null then d.city else g.city end as city,
      case when g.pledge_id is null then d.province else g.province end as province,
      case when g.pledge_id is null then d.postal_code else g.postal_code end as postal_code,
      case when g.pledge_id is null then d.country else g.country end as country,
      case when g.pledge_id is null then d.locale else g.locale end as locale,
      case when g.pledge_id is null then d.receipt_locale else g.receipt_locale end as receipt_locale
    from pledges p
    join donors d on d.id = p.donor_id
    left join pledge_donor_details g on g.pledge_id = p.id`.execute(db);

  await sql`alter table campaigns add column title_ko text, add column summary_ko text, add column story_ko text`.execute(db);
  await sql`
    update campaigns set
      title_ko = '다섯 가족에게 안전한 새 삶을',
      summary_ko = 'HanVoice는 캐나다 정부와 함께 탈북 난민 다섯 가족의 캐나다 정착을 돕고 있습니다. 캐나다 곳곳의 후원 그룹이 이 가족들을 맞이하며, 여러분의 후원금은 가족들의 첫 1년을 책임집니다.',
      story_ko = ${FIRST_CAMPAIGN_STORY_KO}
    where slug = 'five-families'`.execute(db);

  await sql`alter table sponsor_groups add column story_ko text not null default ''`.execute(db);
}

const FIRST_CAMPAIGN_STORY_KO = [
  '북한을 탈출한 분들은 제3국에서 강제 송환의 위험 속에 몇 년씩 기다리는 경우가 많습니다. 특히 여성과 아이들이 가장 큰 위험에 놓여 있으며, 많은 분이 성폭력과 젠더 기반 폭력을 겪었거나 그 위험에 처해 있습니다.',
  'HanVoice는 캐나다 이민·난민·시민권부(IRCC)와 함께하는 시범 사업으로, 정부 심사를 마친 다섯 가족을 2년 안에 캐나다에 정착시킵니다. 각 가족은 앞으로 살게 될 지역의 자원봉사자들로 이루어진 후원 그룹이 맞이하며, 첫 12개월 동안, 또는 가족이 자립할 때까지 곁에서 돕습니다.',
  '한 가족의 첫 1년에는 약 $50,000가 듭니다. 도착할 때 가구와 겨울옷, 첫 달 월세가 필요하고, 그 뒤로는 매달 월세와 식비, 교통비, 전화비가 듭니다. 보내 주신 후원금은 한 푼도 빠짐없이 이 사업에만 쓰이고, 외부 감사를 받는 회계 장부에 기록되며, 소득세 공제 영수증이 발급됩니다.',
].join('\n\n');
