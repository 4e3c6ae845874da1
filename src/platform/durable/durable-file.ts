import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `data` to `path` (created or replaced) and fsyncs the file. */
export async function writeFileSynced(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fsyncs a folder, so the files created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** tmp → fsync → rename → fsync folder: the name holds the old or the new content, never a torn one. */
export async function writeDurably(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileSynced(path + '.tmp', data);
  await rename(path + '.tmp', path);
  await fsyncDir(dirname(path));
}
