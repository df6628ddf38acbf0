import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { appendAudit, isAudited } from '../db/audit.js';
import { InvalidInputError, UnknownModelError } from '../errors.js';
import { versionStatuses } from '../registry/version-store.js';
import { ROUTING_MODES, type RoutingEntry, type SegmentOverride } from './table.js';
import { percentOf } from './weight.js';

/** Postgres channel on which every committed routing change is announced (payload: RoutingNotice). */
export const ROUTING_CHANNEL = 'arena_routing';

export interface RoutingNotice {
  tenantId: string;
  model: string;
  generation: number;
}

export interface RoutingRow {
  tenant_id: string;
  model: string;
  champion: string | null;
  challenger: string | null;
  mode: RoutingEntry['mode'];
  weight_bp: number;
  shadow: string[];
  segment_overrides: SegmentOverride[];
  salt: string;
  generation: number;
  updated_at: Date;
}

export function toEntry(row: RoutingRow): RoutingEntry {
  return {
    tenantId: row.tenant_id,
    model: row.model,
    champion: row.champion,
    challenger: row.challenger,
    mode: row.mode,
    weightBp: row.weight_bp,
    shadow: row.shadow,
    segmentOverrides: row.segment_overrides,
    salt: row.salt,
    generation: Number(row.generation),
  };
}

const segmentOverrideSchema = z.object({
  key: z.string().min(1),
  value: z.string().min(1),
  version: z.string().min(1),
});

/** A change to one model's routing; omitted fields keep their value. */
export const routingChangeSchema = z
  .object({
    champion: z.string().min(1).nullable(),
    challenger: z.string().min(1).nullable(),
    mode: z.enum(ROUTING_MODES),
    weightBp: z.number().int().min(0).max(10_000),
    shadow: z.array(z.string().min(1)),
    segmentOverrides: z.array(segmentOverrideSchema),
    salt: z.string().min(1).max(200),
  })
  .partial()
  .strict();

export type RoutingChange = z.infer<typeof routingChangeSchema>;

export interface ChangeRoutingInput {
  tenantId?: string;
  model: string;
  change: RoutingChange;
  actor: string;
  reason?: string;
  /** A retried activity passes the same key; the change is then applied once. */
  idempotencyKey?: string;
}

export async function getRouting(
  db: Knex | Knex.Transaction,
  model: string,
  tenantId = 'default',
): Promise<RoutingEntry> {
  const entry = await findRouting(db, model, tenantId);
  if (!entry) throw new UnknownModelError(model);
  return entry;
}

/** A model's routing, or undefined for a model that has none. */
export async function findRouting(
  db: Knex | Knex.Transaction,
  model: string,
  tenantId = 'default',
): Promise<RoutingEntry | undefined> {
  const row = await db<RoutingRow>('routing').where({ tenant_id: tenantId, model }).first();
  return row ? toEntry(row) : undefined;
}

/** Each model's routing generation: a cheap way to see which rows changed. */
export async function routingGenerations(
  db: Knex,
  tenantId: string,
): Promise<Array<{ model: string; generation: number }>> {
  const rows = await db<RoutingRow>('routing').where({ tenant_id: tenantId }).select('model', 'generation');
  return rows.map((r) => ({ model: r.model, generation: Number(r.generation) }));
}

export async function listRouting(db: Knex, tenantId?: string): Promise<RoutingEntry[]> {
  const query = db<RoutingRow>('routing').orderBy(['tenant_id', 'model']);
  if (tenantId !== undefined) void query.where({ tenant_id: tenantId });
  return (await query).map(toEntry);
}

/** A model's routing row, locked until the transaction ends so concurrent changes apply one after another. */
export async function lockRouting(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
): Promise<RoutingRow | undefined> {
  return trx<RoutingRow>('routing').where({ tenant_id: tenantId, model }).forUpdate().first();
}

/** The first routing row of a model: champion-less, mode off, a random salt. Called inside registration. */
export async function createRouting(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
  actor: string,
): Promise<void> {
  const salt = randomBytes(8).toString('hex');
  const inserted = await trx('routing')
    .insert({ tenant_id: tenantId, model, salt, mode: 'off', weight_bp: 0, generation: 1, updated_by: actor })
    .onConflict(['tenant_id', 'model'])
    .ignore()
    .returning('model');
  if (inserted.length === 0) return;
  await trx('routing_history').insert({
    tenant_id: tenantId,
    model,
    generation: 1,
    mode: 'off',
    weight_bp: 0,
    salt,
    changed_by: actor,
    reason: 'model registered',
  });
}

async function assertVersionsExist(
  trx: Knex.Transaction,
  tenantId: string,
  model: string,
  entry: RoutingEntry,
): Promise<void> {
  const wanted: Array<[string, string]> = [];
  if (entry.champion) wanted.push(['champion', entry.champion]);
  if (entry.challenger) wanted.push(['challenger', entry.challenger]);
  entry.shadow.forEach((v, i) => wanted.push([`shadow[${i}]`, v]));
  entry.segmentOverrides.forEach((o, i) => wanted.push([`segmentOverrides[${i}].version`, o.version]));
  if (wanted.length === 0) return;
  const status = await versionStatuses(
    trx,
    tenantId,
    model,
    wanted.map(([, v]) => v),
  );
  for (const [field, version] of wanted) {
    if (!status.has(version)) {
      throw new InvalidInputError(
        field,
        version,
        `no version ${version} of model ${model} is registered`,
        `Register it: arena model register ${model} ${version}`,
      );
    }
    if (status.get(version) === 'rejected') {
      throw new InvalidInputError(
        field,
        version,
        `version ${version} of model ${model} was rejected and cannot receive traffic`,
      );
    }
  }
}

/** Rules that hold for every routing row, whatever changed. */
function assertConsistent(entry: RoutingEntry): void {
  if (entry.mode !== 'off' && !entry.challenger) {
    throw new InvalidInputError(
      'mode',
      entry.mode,
      `${entry.mode} mode needs a challenger`,
      'Pass --challenger VERSION.',
    );
  }
  if (entry.challenger && entry.challenger === entry.champion) {
    throw new InvalidInputError(
      'challenger',
      entry.challenger,
      'the challenger must differ from the champion',
    );
  }
  if (entry.mode !== 'canary' && entry.weightBp !== 0) {
    throw new InvalidInputError(
      'weight',
      percentOf(entry.weightBp),
      `a traffic weight applies only in canary mode, not ${entry.mode}`,
    );
  }
  if (entry.mode !== 'off' && !entry.champion) {
    throw new InvalidInputError(
      'champion',
      null,
      'a rollout needs a champion to compare with',
      'Set one: arena model champion MODEL VERSION',
    );
  }
}

/**
 * Applies a routing change in one transaction: the row (generation + 1), its history row, its audit row and a
 * NOTIFY that routers act on when the transaction commits.
 */
export async function changeRouting(
  knex: Knex,
  input: ChangeRoutingInput,
  outer?: Knex.Transaction,
): Promise<RoutingEntry> {
  const parsed = routingChangeSchema.safeParse(input.change);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'change';
    const value = issue.path.reduce<unknown>(
      (v, k) => (v as Record<string | number, unknown> | undefined)?.[k as string],
      input.change,
    );
    throw new InvalidInputError(field, value, issue.message);
  }
  const change = parsed.data;
  const tenantId = input.tenantId ?? 'default';
  const run = async (trx: Knex.Transaction): Promise<RoutingEntry> => {
    if (input.idempotencyKey && (await isAudited(trx, input.idempotencyKey)))
      return getRouting(trx, input.model, tenantId);
    const row = await lockRouting(trx, tenantId, input.model);
    if (!row) throw new UnknownModelError(input.model);
    const current = toEntry(row);
    const next: RoutingEntry = {
      ...current,
      ...change,
      shadow: change.shadow ?? current.shadow,
      segmentOverrides: change.segmentOverrides ?? current.segmentOverrides,
      generation: current.generation + 1,
    };
    // Leaving canary mode without naming a weight resets it, so "set mode shadow" needs no "--weight 0".
    if (change.mode && change.mode !== 'canary' && change.weightBp === undefined) next.weightBp = 0;
    if (change.mode === 'off' && change.challenger === undefined) next.challenger = null;
    assertConsistent(next);
    await assertVersionsExist(trx, tenantId, input.model, next);

    const values = {
      champion: next.champion,
      challenger: next.challenger,
      mode: next.mode,
      weight_bp: next.weightBp,
      shadow: next.shadow,
      segment_overrides: JSON.stringify(next.segmentOverrides),
      salt: next.salt,
      generation: next.generation,
    };
    await trx('routing')
      .where({ tenant_id: tenantId, model: input.model })
      .update({ ...values, updated_by: input.actor, updated_at: trx.fn.now() });
    await trx('routing_history').insert({
      tenant_id: tenantId,
      model: input.model,
      ...values,
      changed_by: input.actor,
      reason: input.reason ?? null,
    });
    await appendAudit(trx, {
      tenantId,
      actor: input.actor,
      action: 'routing.change',
      entityType: 'model',
      entityId: input.model,
      details: { change, reason: input.reason ?? null, before: current, after: next },
      idempotencyKey: input.idempotencyKey ?? `routing:${tenantId}:${input.model}:${next.generation}`,
    });
    const notice: RoutingNotice = { tenantId, model: input.model, generation: next.generation };
    await trx.raw('select pg_notify(?, ?)', [ROUTING_CHANNEL, JSON.stringify(notice)]);
    return next;
  };
  return outer ? run(outer) : knex.transaction(run);
}

/** Which routing (champion, challenger, split) was in force at `at`, from routing_history. */
export async function routingAt(
  knex: Knex,
  model: string,
  at: Date,
  tenantId = 'default',
): Promise<(RoutingEntry & { since: Date }) | undefined> {
  const row = await knex('routing_history')
    .where({ tenant_id: tenantId, model })
    .where('at', '<=', at)
    .orderBy('generation', 'desc')
    .first();
  if (!row) return undefined;
  return { ...toEntry(row as RoutingRow), since: row.at as Date };
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

/** The champion before `current` in the routing history: the newest other version that was champion. */
export async function championBefore(
  knex: Knex,
  model: string,
  current: string,
  tenantId = 'default',
): Promise<string | null> {
  const row = await knex('routing_history')
    .where({ tenant_id: tenantId, model })
    .whereNotNull('champion')
    .whereNot('champion', current)
    .orderBy('generation', 'desc')
    .first('champion');
  return (row?.champion as string | undefined) ?? null;
}

export interface RoutingHistoryRow extends Omit<RoutingRow, 'updated_at'> {
  id: number;
  at: Date;
  changed_by: string;
  reason: string | null;
}

/**
 * A model's routing over a period: the row in force when it began, then every change until it ended (and
 * five seconds after, for the change that ended it), in no particular order.
 */
export async function routingHistoryDuring(
  knex: Knex,
  tenantId: string,
  model: string,
  start: Date,
  end: Date,
): Promise<RoutingHistoryRow[]> {
  return (await knex
    .select('*')
    .from(
      knex('routing_history')
        .where({ tenant_id: tenantId, model })
        .where('at', '<', start)
        .orderBy('generation', 'desc')
        .limit(1)
        .as('before'),
    )
    .unionAll((q) => {
      void q
        .select('*')
        .from('routing_history')
        .where({ tenant_id: tenantId, model })
        .whereBetween('at', [start, new Date(end.getTime() + 5_000)]);
    })) as RoutingHistoryRow[];
}
