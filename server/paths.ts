import fs from 'node:fs';
import path from 'node:path';

/** The project root (the folder holding package.json), from source under tsx/Jest and from dist/. */
function findProjectRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const VIEWS_DIR = path.join(PROJECT_ROOT, 'views');
export const PUBLIC_DIR = path.join(PROJECT_ROOT, 'public');
export const LOCALES_DIR = path.join(PROJECT_ROOT, 'locales');
/** @simplewebauthn/browser's one-file bundle (index.umd.min.js: the SimpleWebAuthnBrowser global), served at /static/vendor/simplewebauthn/. */
export const WEBAUTHN_BROWSER_DIR = path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '../dist/bundle');
