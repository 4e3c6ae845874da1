import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '../../../config/app-config';

/**
 * Where the raw archive lives: ADS_ARCHIVE_DIR, else <DATA_DIR>/ads/raw. DATA_DIR=memory means "keep
 * nothing on disk" (tests, throwaway runs), like the in-memory database beside it: the archive then goes
 * to a fresh temporary folder that is removed when the application shuts down.
 */
@Injectable()
export class ArchiveLocation implements OnApplicationShutdown {
  readonly dir: string;
  readonly ephemeral: boolean;

  constructor(config: AppConfig) {
    this.ephemeral = !config.ADS_ARCHIVE_DIR && config.DATA_DIR === 'memory';
    if (config.ADS_ARCHIVE_DIR) this.dir = resolve(config.ADS_ARCHIVE_DIR);
    else if (this.ephemeral) this.dir = mkdtempSync(join(tmpdir(), `tetrad-${config.NAMESPACE}-archive-`));
    else this.dir = resolve(config.DATA_DIR, 'ads', 'raw');
  }

  /** Runs after every beforeApplicationShutdown hook, so the archiver has stopped writing. */
  onApplicationShutdown(): void {
    if (this.ephemeral) rmSync(this.dir, { recursive: true, force: true });
  }
}
