import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ALERT_SEVERITIES, ALERT_TYPES } from '../alerts/alert-store.js';
import { InvalidInputError } from '../errors.js';

export const notifyConfigSchema = z.object({
  sinks: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
        url: z.string().url(),
        format: z.enum(['json', 'slack']).default('json'),
        /** Which severities this sink receives: the per-severity routing. */
        severities: z.array(z.enum(ALERT_SEVERITIES)).min(1).default(['critical', 'warning']),
        /**
         * Which event types this sink receives, as well: a type (`rollout_promoted`), a prefix ending in `*`
         * (`retrain_*`) or `*` for all. Both filters must let an event through.
         */
        types: z
          .array(
            z
              .string()
              .refine(
                knownTypePattern,
                `must be *, an event type (${Object.keys(ALERT_TYPES).join(', ')}) or a prefix of one ending in *`,
              ),
          )
          .min(1)
          .default(['*']),
        headers: z.record(z.string(), z.string()).default({}),
        /** Attempts per delivery (with exponential backoff) before it is recorded as failed. */
        attempts: z.number().int().min(1).max(10).default(5),
      }),
    )
    .default([])
    .refine((s) => new Set(s.map((x) => x.name)).size === s.length, 'sink names must be unique'),
  /** Base URL of the Temporal Web UI for links (optional). */
  temporalUi: z.string().url().optional(),
  /** Base URL of Arena's HTTP API (`arena gateway`), for links to a rollout's report (optional). */
  arenaUrl: z.string().url().optional(),
});

function knownTypePattern(pattern: string): boolean {
  if (pattern.endsWith('*')) return Object.keys(ALERT_TYPES).some((t) => t.startsWith(pattern.slice(0, -1)));
  return Object.hasOwn(ALERT_TYPES, pattern);
}

/** Whether a sink takes an event: its severity and its type both pass the sink's filters. */
export function sinkTakes(sink: Pick<NotifySink, 'severities' | 'types'>, severity: string, type: string) {
  return (
    (sink.severities as readonly string[]).includes(severity) &&
    sink.types.some((p) => (p.endsWith('*') ? type.startsWith(p.slice(0, -1)) : p === type))
  );
}

export type NotifyConfig = z.output<typeof notifyConfigSchema>;
export type NotifySink = NotifyConfig['sinks'][number];

export function parseNotifyConfig(value: unknown, source: string): NotifyConfig {
  const parsed = notifyConfigSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  let at: unknown = value;
  for (const key of issue.path) at = (at as Record<string | number, unknown> | undefined)?.[key as string];
  throw new InvalidInputError(`${source}: ${issue.path.join('.')}`, at, issue.message);
}

/** Reads ARENA_NOTIFY_CONFIG's file; no file → no sinks. */
export function loadNotifyConfig(path: string | undefined): NotifyConfig {
  if (!path) return { sinks: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError('ARENA_NOTIFY_CONFIG', path, `cannot be read (${(err as Error).message})`);
  }
  return parseNotifyConfig(parseYaml(text) as unknown, path);
}
