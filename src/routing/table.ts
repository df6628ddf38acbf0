import { bucketOfKey } from './bucket.js';
import { RegistryError } from '../errors.js';

export const ROUTING_MODES = ['off', 'shadow', 'canary'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** Pins every request whose segment `key` equals `value` (e.g. store 42) to `version`, whatever the weights. */
export interface SegmentOverride {
  key: string;
  value: string;
  version: string;
}

export interface RoutingEntry {
  tenantId: string;
  model: string;
  champion: string | null;
  challenger: string | null;
  mode: RoutingMode;
  weightBp: number;
  shadow: string[];
  segmentOverrides: SegmentOverride[];
  salt: string;
  generation: number;
}

export interface RouteOptions {
  /** The caller's unit (user, store, session); defaults to the request id. */
  unit?: string | undefined;
  /** Segment values of this request, matched against the entry's overrides. */
  segments?: Record<string, string> | undefined;
}

export interface RouteDecision {
  serve: string;
  /** Versions to call as well, log as role=shadow, and whose answers are discarded. */
  shadow: string[];
  bucket: number;
  generation: number;
  /** Why `serve` was chosen: the champion, the challenger's bucket range, or a segment override. */
  via: 'champion' | 'challenger' | 'segment';
}

/** The `model:salt:` prefix is fixed per entry; routers keep it to build the hash key with one concat. */
export function keyPrefix(entry: Pick<RoutingEntry, 'model' | 'salt'>): string {
  return `${entry.model}:${entry.salt}:`;
}

/**
 * The routing decision of DESIGN.md §4. Pure: the same entry and request always give the same answer.
 * The challenger serves when bucket < weightBp, so raising the weight only ever moves units to the challenger.
 */
export function decide(
  entry: RoutingEntry,
  requestId: string,
  options: RouteOptions = {},
  prefix = keyPrefix(entry),
): RouteDecision {
  if (!entry.champion) {
    throw new RegistryError(
      'no_champion',
      `Model "${entry.model}" has no champion to serve`,
      `Set one: arena model champion ${entry.model} VERSION`,
    );
  }
  const bucket = bucketOfKey(prefix + (options.unit ?? requestId));
  let serve = entry.champion;
  let via: RouteDecision['via'] = 'champion';
  const override = options.segments ? matchOverride(entry.segmentOverrides, options.segments) : undefined;
  if (override) {
    serve = override.version;
    via = 'segment';
  } else if (entry.mode === 'canary' && entry.challenger && bucket < entry.weightBp) {
    serve = entry.challenger;
    via = 'challenger';
  }
  const shadow: string[] = [];
  if (entry.mode === 'shadow' && entry.challenger && entry.challenger !== serve)
    shadow.push(entry.challenger);
  for (const version of entry.shadow) {
    if (version !== serve && !shadow.includes(version)) shadow.push(version);
  }
  return { serve, shadow, bucket, generation: entry.generation, via };
}

function matchOverride(
  overrides: SegmentOverride[],
  segments: Record<string, string>,
): SegmentOverride | undefined {
  for (const override of overrides) {
    if (segments[override.key] === override.value) return override;
  }
  return undefined;
}
