import type { Knex } from 'knex';
import type { VersionStatus } from './status.js';
import type { ParsedVersion } from './version.js';

export interface ModelVersion {
  model: string;
  version: string;
  status: VersionStatus;
  artifactUri: string | null;
  artifactDigest: string | null;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  parentVersion: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** When it last became champion; null if it never has (migration 20261204000011). */
  promotedAt: Date | null;
}

interface VersionRow {
  id: number;
  tenant_id: string;
  model: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string | null;
  build: string | null;
  version: string;
  status: VersionStatus;
  artifact_uri: string | null;
  artifact_digest: string | null;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  parent_version: string | null;
  created_at: Date;
  updated_at: Date;
  promoted_at: Date | null;
}

/** What a registration fixes about a version; a version is immutable, so these never change. */
export type VersionDetails = {
  artifact_uri: string | null;
  artifact_digest: string | null;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  parent_version: string | null;
};

function toVersion(row: VersionRow): ModelVersion {
  return {
    model: row.model,
    version: row.version,
    status: row.status,
    artifactUri: row.artifact_uri,
    artifactDigest: row.artifact_digest,
    training: row.training,
    metrics: row.metrics,
    parentVersion: row.parent_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    promotedAt: row.promoted_at ?? null,
  };
}

/** One version as stored, or undefined. */
export async function findVersion(
  db: Knex | Knex.Transaction,
  tenantId: string,
  model: string,
  version: string,
): Promise<ModelVersion | undefined> {
  const row = await db<VersionRow>('model_versions').where({ tenant_id: tenantId, model, version }).first();
  return row ? toVersion(row) : undefined;
}

/** Whether a version is registered (read inside registration, to check a parent). */
export async function versionExists(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
  version: string,
): Promise<boolean> {
  return Boolean(await trx('model_versions').where({ tenant_id: tenantId, model, version }).first('id'));
}

/** Inserts a candidate version; undefined when that version was already registered (nothing is written). */
export async function insertCandidateVersion(
  trx: Knex.Transaction,
  args: { tenantId: string; model: string; parsed: ParsedVersion; details: VersionDetails },
): Promise<ModelVersion | undefined> {
  const { parsed, details } = args;
  const inserted = await trx<VersionRow>('model_versions')
    .insert({
      tenant_id: args.tenantId,
      model: args.model,
      version: parsed.version,
      major: parsed.major,
      minor: parsed.minor,
      patch: parsed.patch,
      prerelease: parsed.prerelease,
      build: parsed.build,
      status: 'candidate',
      ...details,
      training: JSON.stringify(details.training) as never,
      metrics: JSON.stringify(details.metrics) as never,
    })
    .onConflict(['tenant_id', 'model', 'version'])
    .ignore()
    .returning('*');
  return inserted[0] ? toVersion(inserted[0]) : undefined;
}

/** A model's versions in semver order (then registration order). */
export async function versionsOfModel(knex: Knex, tenantId: string, model: string): Promise<ModelVersion[]> {
  const rows = await knex<VersionRow>('model_versions')
    .where({ tenant_id: tenantId, model })
    .orderBy([{ column: 'major' }, { column: 'minor' }, { column: 'patch' }, { column: 'created_at' }]);
  return rows.map(toVersion);
}

export async function updateVersionStatus(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
  version: string,
  status: VersionStatus,
): Promise<ModelVersion> {
  const [row] = await trx<VersionRow>('model_versions')
    .where({ tenant_id: tenantId, model, version })
    .update({
      status,
      updated_at: trx.fn.now() as never,
      ...(status === 'champion' ? { promoted_at: trx.fn.now() as never } : {}),
    })
    .returning('*');
  return toVersion(row!);
}

/** The status of each of `versions` that is registered (the others are absent from the map). */
export async function versionStatuses(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
  versions: string[],
): Promise<Map<string, string>> {
  const rows: Array<{ version: string; status: string }> = await trx('model_versions')
    .where({ tenant_id: tenantId, model })
    .whereIn('version', versions)
    .select('version', 'status');
  return new Map(rows.map((r) => [r.version, r.status]));
}

/** Every version of a model with its numbers and training record, for picking the next version number. */
export async function versionLineage(
  knex: Knex,
  tenantId: string,
  model: string,
): Promise<Array<{ major: number; minor: number; version: string; training: { jobId?: string } }>> {
  return (await knex('model_versions')
    .where({ tenant_id: tenantId, model })
    .select('major', 'minor', 'version', 'training')) as Array<{
    major: number;
    minor: number;
    version: string;
    training: { jobId?: string };
  }>;
}
