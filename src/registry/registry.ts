import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import { z } from 'zod';
import { appendAudit, isAudited } from '../db/audit.js';
import { changeRouting, createRouting, getRouting, lockRouting } from '../routing/store.js';
import type { RoutingEntry } from '../routing/table.js';
import { InvalidInputError, RegistryError, UnknownModelError } from '../errors.js';
import { insertModel, modelExists, modelSummaries, type ModelSummary } from './model-store.js';
import { isLegalTransition, LEGAL_TRANSITIONS, type VersionStatus } from './status.js';
import { parseVersion } from './version.js';
import {
  findVersion,
  insertCandidateVersion,
  updateVersionStatus,
  versionExists,
  versionsOfModel,
  type ModelVersion,
  type VersionDetails,
} from './version-store.js';

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

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
  const desired: VersionDetails = {
    artifact_uri: input.artifactUri ?? null,
    artifact_digest: input.artifactDigest?.replace(/^sha256:/, '') ?? null,
    training: input.training ?? {},
    metrics: input.metrics ?? {},
    parent_version: parent,
  };

  return knex.transaction(async (trx) => {
    await insertModel(trx, tenantId, input.model, input.description ?? null);
    await createRouting(trx, tenantId, input.model, input.actor);
    if (parent && !(await versionExists(trx, tenantId, input.model, parent)))
      throw new InvalidInputError(
        'parentVersion',
        input.parentVersion,
        `no version ${parent} of model ${input.model} is registered`,
      );

    const inserted = await insertCandidateVersion(trx, {
      tenantId,
      model: input.model,
      parsed,
      details: desired,
    });
    if (inserted) {
      await appendAudit(trx, {
        tenantId,
        actor: input.actor,
        action: 'model.register',
        entityType: 'model_version',
        entityId: `${input.model}@${parsed.version}`,
        details: desired,
        idempotencyKey: `register:${tenantId}:${input.model}:${parsed.version}`,
      });
      return { version: inserted, created: true };
    }
    const existing = (await findVersion(trx, tenantId, input.model, parsed.version))!;
    const stored: VersionDetails = {
      artifact_uri: existing.artifactUri,
      artifact_digest: existing.artifactDigest,
      training: existing.training,
      metrics: existing.metrics,
      parent_version: existing.parentVersion,
    };
    const differs = (Object.keys(desired) as Array<keyof typeof desired>).filter(
      (k) => !isDeepStrictEqual(stored[k], desired[k]),
    );
    if (differs.length > 0) {
      throw new RegistryError(
        'conflict',
        `Version ${parsed.version} of ${input.model} is already registered with a different ${differs.join(', ')}`,
        'A registered version is immutable: register the change under a new version.',
      );
    }
    return { version: existing, created: false };
  });
}

export async function getVersion(
  db: Knex | Knex.Transaction,
  model: string,
  version: string,
  tenantId = 'default',
): Promise<ModelVersion> {
  const canonical = parseVersion(version).version;
  const found = await findVersion(db, tenantId, model, canonical);
  if (!found) {
    if (!(await modelExists(db, tenantId, model))) throw new UnknownModelError(model);
    throw new RegistryError(
      'not_found',
      `No version ${canonical} of model ${model}`,
      `List versions: arena model show ${model}`,
    );
  }
  return found;
}

export async function listModels(knex: Knex, tenantId = 'default'): Promise<ModelSummary[]> {
  return modelSummaries(knex, tenantId);
}

export async function showModel(
  knex: Knex,
  model: string,
  tenantId = 'default',
): Promise<{ model: string; routing: RoutingEntry; versions: ModelVersion[] }> {
  const routing = await getRouting(knex, model, tenantId);
  return { model, routing, versions: await versionsOfModel(knex, tenantId, model) };
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
  const updated = await updateVersionStatus(trx, tenantId, args.model, current.version, args.to);
  await appendAudit(trx, {
    tenantId,
    actor: args.actor,
    action: 'model.status',
    entityType: 'model_version',
    entityId: `${args.model}@${current.version}`,
    details: { from: current.status, to: args.to, reason: args.reason ?? null },
    idempotencyKey: `status:${tenantId}:${args.model}:${current.version}:${current.status}->${args.to}:${current.updatedAt.toISOString()}`,
  });
  return updated;
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
    if (args.idempotencyKey && (await isAudited(trx, args.idempotencyKey)))
      return getRouting(trx, args.model, tenantId);
    const target = await getVersion(trx, args.model, args.version, tenantId);
    const routing = await lockRouting(trx, tenantId, args.model);
    if (!routing) throw new UnknownModelError(args.model);
    const previous = routing.champion;
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
          shadow: routing.shadow.filter((v) => v !== target.version),
        },
        ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
      },
      trx,
    );
  });
}
