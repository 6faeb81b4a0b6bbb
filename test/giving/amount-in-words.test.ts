import { amountInWords } from '../../server/giving/offline-payments';

/**
 * The amount staff confirm, spelled out in French. Each expectation is written by hand from French
 * number rules (traditional spelling, as on Canadian cheques), never copied from to-words' output:
 * - « mille » never varies and takes no « un » before it;
 * - « cent » and « vingt » (in quatre-vingts) take an s when multiplied and no other number follows;
 *   « dollars » and « cents » are nouns, so the s stays before them;
 * - tens and units below a hundred are joined by a hyphen, except 21, 31 … 71, joined by « et »;
 *   81 and 91 take a hyphen and no « et »;
 * - « et » joins the dollars and the cents; one dollar, one cent are singular.
 */
test.each([
  [1_234_567, 'douze mille trois cent quarante-cinq dollars et soixante-sept cents'],
  [1_128_080, 'onze mille deux cent quatre-vingts dollars et quatre-vingts cents'],
  [8_080, 'quatre-vingts dollars et quatre-vingts cents'],
  [20_000, 'deux cents dollars'],
  [20_101, 'deux cent un dollars et un cent'],
  [7_171, 'soixante et onze dollars et soixante et onze cents'],
  [9_181, 'quatre-vingt-onze dollars et quatre-vingt-un cents'],
  [8_000_000, 'quatre-vingt mille dollars'],
  [10_000_000, 'cent mille dollars'],
  [150, 'un dollar et cinquante cents'],
])('%d cents in French: %s', (cents, words) => {
  expect(amountInWords(cents, 'fr')).toBe(words);
});
