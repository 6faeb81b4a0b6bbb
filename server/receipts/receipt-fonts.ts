import fs from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';

/**
 * The fonts receipts are set in, embedded (pdfkit subsets them: only the glyphs a receipt uses
 * travel in its PDF). Noto Sans covers Latin with every Vietnamese and Polish letter (and Greek,
 * Cyrillic); Noto Sans KR covers Hangul and the common CJK ideographs but not Polish ł ż ą ę, so
 * each piece of text is set in the first font of the chain that has its letters. Both come from
 * Google Fonts through Expo's npm packages (@expo-google-fonts/noto-sans, …-noto-sans-kr), under
 * the SIL Open Font License 1.1 (each package's LICENSE_FONT).
 */
export type FontStyle = 'regular' | 'bold';

const FILES: Record<FontStyle, [string, string][]> = {
  regular: [
    ['@expo-google-fonts/noto-sans', '400Regular/NotoSans_400Regular.ttf'],
    ['@expo-google-fonts/noto-sans-kr', '400Regular/NotoSansKR_400Regular.ttf'],
  ],
  bold: [
    ['@expo-google-fonts/noto-sans', '700Bold/NotoSans_700Bold.ttf'],
    ['@expo-google-fonts/noto-sans-kr', '700Bold/NotoSansKR_700Bold.ttf'],
  ],
};

type LoadedFont = { name: string; font: fontkit.Font };

// Read once per process, on the first receipt that needs each file (Noto Sans KR is 6 MB a weight).
const loaded = new Map<string, LoadedFont>();

function fontPath(style: FontStyle, index: number): string {
  const [pkg, file] = FILES[style][index]!;
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

/** The style's font files, Latin first then Hangul: what the campaign's share image (server/campaign/share-image.ts) renders with too. */
export function fontFiles(style: FontStyle): string[] {
  return FILES[style].map((_, i) => fontPath(style, i));
}

function load(style: FontStyle, index: number): LoadedFont {
  const name = `${style}-${index}`;
  let font = loaded.get(name);
  if (!font) {
    const data = fs.readFileSync(fontPath(style, index));
    font = { name, font: fontkit.create(data) as fontkit.Font };
    loaded.set(name, font);
  }
  return font;
}

export type TextRun = { text: string; font: LoadedFont };

/**
 * Splits text into runs, each set in the first font of the style's chain that has its letters.
 * Spaces and punctuation every font has stay in the current run.
 */
export function fontRuns(text: string, style: FontStyle): TextRun[] {
  const runs: TextRun[] = [];
  const chain = FILES[style].map((_, i) => i);
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const current = runs[runs.length - 1];
    if (current && /[\s\p{P}]/u.test(char) && current.font.font.hasGlyphForCodePoint(cp)) {
      current.text += char;
      continue;
    }
    // The first font that has it; a letter no font has stays with the first (it shows as a box, and still extracts as itself).
    const index = chain.find((i) => load(style, i).font.hasGlyphForCodePoint(cp)) ?? 0;
    const font = load(style, index);
    if (current && current.font === font) current.text += char;
    else runs.push({ text: char, font });
  }
  return runs;
}
