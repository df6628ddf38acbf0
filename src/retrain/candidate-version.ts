import type { Knex } from 'knex';
import { parseVersion } from '../registry/version.js';
import { versionLineage } from '../registry/version-store.js';
import type { RetrainInput } from './types.js';

/**
 * The champion's next minor version, marked with the job: `1.3.0+retrain.<job>`. Stable for the job: once
 * its candidate is registered, that version is the answer.
 */
export async function candidateVersion(knex: Knex, input: RetrainInput): Promise<string> {
  const rows = await versionLineage(knex, input.tenantId, input.model);
  const mine = rows.find((r) => r.training.jobId === input.jobId);
  if (mine) return mine.version;
  const top = rows.reduce(
    (best, r) => (r.major > best.major || (r.major === best.major && r.minor > best.minor) ? r : best),
    { major: 0, minor: 0 },
  );
  return parseVersion(`${top.major}.${top.minor + 1}.0+retrain.${input.jobId.replace(/[^0-9A-Za-z-]/g, '-')}`)
    .version;
}
