import { readdirSync, statSync } from 'fs';
import { join, resolve } from 'path';
import { getMetadataArgsStorage } from 'typeorm';

// Loaded by location, not by a shared index file, so a module adds an entity or a migration
// without editing platform code. Paths are relative to this file: src/platform/database under
// jest (ts) and dist/src/platform/database when compiled (js), so ../../../migrations is right
// in both. Only files with this file's own extension are loaded, so stale .js next to .ts (or
// .d.ts/.map in dist) are never picked up.
const EXT = __filename.endsWith('.ts') ? '.ts' : '.js';
const ROOT = resolve(__dirname, '../../..');
export const MIGRATIONS_DIR = join(ROOT, 'migrations');
export const MODULES_DIR = resolve(__dirname, '../../modules');

function listFiles(dir: string, recursive: boolean, accept: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const name of names) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (recursive) out.push(...listFiles(full, true, accept));
    } else if (name.endsWith(EXT) && !name.endsWith('.d.ts') && accept(name)) {
      out.push(full);
    }
  }
  return out;
}

function exportedClasses(file: string): Function[] {
  const mod = require(file) as Record<string, unknown>;
  return Object.values(mod).filter((v): v is Function => typeof v === 'function');
}

/** Every class in migrations/*.{ts,js} with an up() method; TypeORM orders them by timestamp. */
export function loadMigrations(dir = MIGRATIONS_DIR): Function[] {
  return listFiles(dir, false, (n) => !/\.(spec|test)\./.test(n))
    .flatMap(exportedClasses)
    .filter((c) => typeof (c.prototype as { up?: unknown })?.up === 'function');
}

/** Every @Entity class exported from a *.entity.{ts,js} file under src/modules. */
export function loadEntities(dir = MODULES_DIR): Function[] {
  const files = listFiles(dir, true, (n) => n.endsWith(`.entity${EXT}`));
  const classes = files.flatMap(exportedClasses);
  const tables = new Set(getMetadataArgsStorage().tables.map((t) => t.target));
  return classes.filter((c) => tables.has(c));
}
