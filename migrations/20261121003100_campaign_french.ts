import { type Kysely, sql } from 'kysely';

/** The campaign's own title, summary and story in French: they are data, not messages. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table campaigns add column title_fr text, add column summary_fr text, add column story_fr text`.execute(db);
  await sql`
    update campaigns set
      title_fr = 'Mettre cinq familles en sécurité',
      summary_fr = 'HanVoice et le gouvernement du Canada réinstallent cinq familles de réfugiés nord-coréens. Des groupes de parrainage partout au Canada les accueilleront; votre don finance leur première année.',
      story_fr = ${FIRST_CAMPAIGN_STORY_FR}
    where slug = 'five-families'`.execute(db);
}

const FIRST_CAMPAIGN_STORY_FR = [
  'Les Nord-Coréens qui fuient leur pays attendent, souvent pendant des années, dans des pays tiers où ils risquent d’être renvoyés. Les femmes et leurs enfants sont les plus exposés : beaucoup ont survécu ou sont exposées à des violences sexuelles et fondées sur le genre.',
  'Dans le cadre d’un projet pilote avec Immigration, Réfugiés et Citoyenneté Canada, HanVoice réinstallera en deux ans cinq familles dont le gouvernement a vérifié le dossier. Chaque famille est accueillie par un groupe de parrainage formé de bénévoles de la collectivité où elle vivra, qui la soutient pendant ses douze premiers mois, ou jusqu’à ce qu’elle puisse subvenir à ses besoins.',
  'La première année d’une famille coûte environ 50 000 $ : des meubles, des vêtements d’hiver et le premier mois de loyer à l’arrivée, puis chaque mois le loyer, la nourriture, le transport et un téléphone. Chaque dollar que vous donnez est réservé au programme, inscrit dans un grand livre vérifié et donne droit à un reçu fiscal.',
].join('\n\n');
