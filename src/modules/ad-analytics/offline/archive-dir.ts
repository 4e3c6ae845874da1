import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '../../../config/app-config';

/**
 * ADS_ARCHIVE_DIR, else <DATA_DIR>/ads/raw. DATA_DIR=memory (tests, throwaway runs) has no folder, so
 * the archive goes to the system temp folder, per namespace.
 */
export function archiveBaseDir(config: AppConfig): string {
  if (config.ADS_ARCHIVE_DIR) return resolve(config.ADS_ARCHIVE_DIR);
  if (config.DATA_DIR === 'memory') return join(tmpdir(), `tetrad-${config.NAMESPACE}`, 'ads', 'raw');
  return resolve(config.DATA_DIR, 'ads', 'raw');
}
