import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export interface StaticAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Where scripts/build-web.mjs puts the web form, beside this module in dist/. */
export const STATIC_DIR = join(__dirname, 'static');

/**
 * Every file of the built web form, read once at start: a handful of small files, served from
 * memory by exact name, so no request path ever reaches the file system.
 */
export function loadStaticAssets(dir = STATIC_DIR): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  if (!existsSync(dir)) return assets;
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (entry.isFile() && contentType) {
        assets.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), contentType });
      }
    }
  };
  walk(dir);
  return assets;
}
