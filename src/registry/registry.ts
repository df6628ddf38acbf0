import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import { z } from 'zod';
import { appendAudit } from '../db/audit.js';
import { changeRouting, createRouting, getRouting } from '../routing/store.js';
import type { RoutingEntry } from '../routing/table.js';
import { InvalidInputError, RegistryError, UnknownModelError } from '../errors.js';
import { isLegalTransition, LEGAL_TRANSITIONS, type VersionStatus } from './status.js';
import { parseVersion } from './version.js';

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

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
}

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
  };
}

export const registerVersionSchema = z.object({
  model: z.string(),
  version: z.string(),
  artifactUri: z.string().min(1).optional(),
  artifactDigest: z
    .string()
    .regex(/^(sha256:)?[0-9a-f]{64}$/, 'must be a SHA-256 hex digest')
    .optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  parentVersion: z.string().optional(),
  description: z.string().optional(),
});

export type RegisterVersionInput = z.infer<typeof registerVersionSchema> & {
  tenantId?: string;
  actor: string;
};

export function assertModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new InvalidInputError(
      'model',
      name,
      'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
}

/**
 * Registers a model (if new) and one of its versions as a candidate. Registering the same version again with
 * the same details is a no-op; with different details it is a conflict, because a version is immutable.
 */
export async function registerVersion(
  knex: Knex,
  input: RegisterVersionInput,
): Promise<{ version: ModelVersion; created: boolean }> {
  const parsedInput = registerVersionSchema.safeParse(input);
  if (!parsedInput.success) {
    const issue = parsedInput.error.issues[0]!;
    const field = issue.path.join('.');
    throw new InvalidInputError(field, (input as Record<string, unknown>)[field], issue.message);
  }
  assertModelName(input.model);
  const tenantId = input.tenantId ?? 'default';
  const parsed = parseVersion(input.version);
  const parent = input.parentVersion ? parseVersion(input.parentVersion, 'parentVersion').version : null;
  const desired = {
    artifact_uri: input.artifactUri ?? null,
    artifact_digest: input.artifactDigest?.replace(/^sha256:/, '') ?? null,
    training: input.training ?? {},
    metrics: input.metrics ?? {},
    parent_version: parent,
  };

  return knex.transaction(async (trx) => {
    await trx('models')
      .insert({ tenant_id: tenantId, name: input.model, description: input.description ?? null })
      .onConflict(['tenant_id', 'name'])
      .ignore();
    await createRouting(trx, tenantId, input.model, input.actor);
    if (parent) {
      const parentRow = await trx('model_versions')
        .where({ tenant_id: tenantId, model: input.model, version: parent })
        .first('id');
      if (!parentRow)
        throw new InvalidInputError(
          'parentVersion',
          input.parentVersion,
          `no version ${parent} of model ${input.model} is registered`,
        );
    }

    const inserted = await trx<VersionRow>('model_versions')
      .insert({
        tenant_id: tenantId,
        model: input.model,
        version: parsed.version,
        major: parsed.major,
        minor: parsed.minor,
        patch: parsed.patch,
        prerelease: parsed.prerelease,
        build: parsed.build,
        status: 'candidate',
        ...desired,
        training: JSON.stringify(desired.training) as never,
        metrics: JSON.stringify(desired.metrics) as never,
      })
      .onConflict(['tenant_id', 'model', 'version'])
      .ignore()
      .returning('*');
    if (inserted[0]) {
      await appendAudit(trx, {
        tenantId,
        actor: input.actor,
        action: 'model.register',
        entityType: 'model_version',
        entityId: `${input.model}@${parsed.version}`,
        details: desired,
        idempotencyKey: `register:${tenantId}:${input.model}:${parsed.version}`,
      });
      return { version: toVersion(inserted[0]), created: true };
    }
    const existing = (await trx<VersionRow>('model_versions')
      .where({ tenant_id: tenantId, model: input.model, version: parsed.version })
      .first())!;
    const differs = (Object.keys(desired) as Array<keyof typeof desired>).filter(
      (k) => !isDeepStrictEqual(existing[k], desired[k]),
    );
    if (differs.length > 0) {
      throw new RegistryError(
        'conflict',
        `Version ${parsed.version} of ${input.model} is already registered with a different ${differs.join(', ')}`,
        'A registered version is immutable: register the change under a new version.',
      );
    }
    return { version: toVersion(existing), created: false };
  });
}

export async function getVersion(
  db: Knex | Knex.Transaction,
  model: string,
  version: string,
  tenantId = 'default',
): Promise<ModelVersion> {
  const canonical = parseVersion(version).version;
  const row = await db<VersionRow>('model_versions')
    .where({ tenant_id: tenantId, model, version: canonical })
    .first();
  if (!row) {
    const known = await db('models').where({ tenant_id: tenantId, name: model }).first('id');
    if (!known) throw new UnknownModelError(model);
    throw new RegistryError(
      'not_found',
      `No version ${canonical} of model ${model}`,
      `List versions: arena model show ${model}`,
    );
  }
  return toVersion(row);
}

export interface ModelSummary {
  model: string;
  description: string | null;
  champion: string | null;
  challenger: string | null;
  mode: RoutingEntry['mode'];
  versions: number;
}

export async function listModels(knex: Knex, tenantId = 'default'): Promise<ModelSummary[]> {
  const rows = await knex('models as m')
    .join('routing as r', function () {
      this.on('r.tenant_id', 'm.tenant_id').andOn('r.model', 'm.name');
    })
    .leftJoin('model_versions as v', function () {
      this.on('v.tenant_id', 'm.tenant_id').andOn('v.model', 'm.name');
    })
    .where('m.tenant_id', tenantId)
    .groupBy('m.name', 'm.description', 'r.champion', 'r.challenger', 'r.mode')
    .orderBy('m.name')
    .select(
      'm.name as model',
      'm.description',
      'r.champion',
      'r.challenger',
      'r.mode',
      knex.raw('count(v.id)::int as versions'),
    );
  return rows as ModelSummary[];
}

export async function showModel(
  knex: Knex,
  model: string,
  tenantId = 'default',
): Promise<{ model: string; routing: RoutingEntry; versions: ModelVersion[] }> {
  const routing = await getRouting(knex, model, tenantId);
  const rows = await knex<VersionRow>('model_versions')
    .where({ tenant_id: tenantId, model })
    .orderBy([{ column: 'major' }, { column: 'minor' }, { column: 'patch' }, { column: 'created_at' }]);
  return { model, routing, versions: rows.map(toVersion) };
}

/** Moves a version to another status, refusing illegal transitions with the list of legal ones. */
export async function setVersionStatus(
  trx: Knex.Transaction,
  args: {
    tenantId?: string;
    model: string;
    version: string;
    to: VersionStatus;
    actor: string;
    reason?: string;
  },
): Promise<ModelVersion> {
  const tenantId = args.tenantId ?? 'default';
  const current = await getVersion(trx, args.model, args.version, tenantId);
  if (current.status === args.to) return current;
  if (!isLegalTransition(current.status, args.to)) {
    const legal = LEGAL_TRANSITIONS[current.status];
    throw new RegistryError(
      'illegal_transition',
      `${args.model}@${current.version} cannot go from ${current.status} to ${args.to}`,
      legal.length
        ? `From ${current.status} it may go to: ${legal.join(', ')}.`
        : `${current.status} is final.`,
    );
  }
  const [row] = await trx<VersionRow>('model_versions')
    .where({ tenant_id: tenantId, model: args.model, version: current.version })
    .update({ status: args.to, updated_at: trx.fn.now() as never })
    .returning('*');
  await appendAudit(trx, {
    tenantId,
    actor: args.actor,
    action: 'model.status',
    entityType: 'model_version',
    entityId: `${args.model}@${current.version}`,
    details: { from: current.status, to: args.to, reason: args.reason ?? null },
    idempotencyKey: `status:${tenantId}:${args.model}:${current.version}:${current.status}->${args.to}:${current.updatedAt.toISOString()}`,
  });
  return toVersion(row!);
}

/**
 * Makes `version` the champion in one transaction: the previous champion is archived, the routing row points
 * at the new champion (and drops it as challenger), and the change is audited and announced.
 * Used to bootstrap a model and as an operator's emergency override.
 */
export async function setChampion(
  knex: Knex,
  args: {
    tenantId?: string;
    model: string;
    version: string;
    actor: string;
    reason?: string;
    idempotencyKey?: string;
  },
): Promise<RoutingEntry> {
  const tenantId = args.tenantId ?? 'default';
  return knex.transaction(async (trx) => {
    if (
      args.idempotencyKey &&
      (await trx('audit_log').where({ idempotency_key: args.idempotencyKey }).first('id'))
    ) {
      return getRouting(trx, args.model, tenantId);
    }
    const target = await getVersion(trx, args.model, args.version, tenantId);
    const routing = await trx('routing')
      .where({ tenant_id: tenantId, model: args.model })
      .forUpdate()
      .first();
    if (!routing) throw new UnknownModelError(args.model);
    const previous = routing.champion as string | null;
    if (previous === target.version) return getRouting(trx, args.model, tenantId);
    if (previous) {
      await setVersionStatus(trx, {
        tenantId,
        model: args.model,
        version: previous,
        to: 'archived',
        actor: args.actor,
        reason: `replaced by ${target.version}`,
      });
    }
    await setVersionStatus(trx, {
      tenantId,
      model: args.model,
      version: target.version,
      to: 'champion',
      actor: args.actor,
      reason: args.reason ?? 'set champion',
    });
    const challengerLeaves = routing.challenger === target.version;
    return changeRouting(
      knex,
      {
        tenantId,
        model: args.model,
        actor: args.actor,
        reason: args.reason ?? `champion set to ${target.version}`,
        change: {
          champion: target.version,
          ...(challengerLeaves ? { challenger: null, mode: 'off' as const, weightBp: 0 } : {}),
          shadow: (routing.shadow as string[]).filter((v) => v !== target.version),
        },
        ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
      },
      trx,
    );
  });
}

/** "Which version was champion at time T?" from the routing history. */
export async function championAt(
  knex: Knex,
  model: string,
  at: Date,
  tenantId = 'default',
): Promise<string | null> {
  const row = await knex('routing_history')
    .where({ tenant_id: tenantId, model })
    .where('at', '<=', at)
    .orderBy('generation', 'desc')
    .first('champion');
  return (row?.champion as string | null | undefined) ?? null;
}
