// zod's tree-shakable build: this module runs in the workflow bundle, where the full build added 1.1 MB.
import * as z from 'zod/mini';
import { unstorableText } from '../validation/storable-text.js';
import type { AbortInput, ActorInput, ApproveInput } from './types.js';

/**
 * The payload of a people-in-the-loop action (approve, reject, pause, resume, abort, promoteNow), checked the
 * same way whether it arrives as an Update or as a Signal, from Arena's client, the gateway, the `temporal`
 * CLI or the Web UI. Anyone who can reach the server can send one, so it is external input: unknown fields
 * (a misspelt `coment` would otherwise vanish), wrong types, and text PostgreSQL cannot store are refused
 * with the field and the value, before anything is recorded. Runs inside the workflow sandbox: no node
 * built-ins.
 */

export type RolloutAction = 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promoteNow';
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = [
  'approve',
  'reject',
  'pause',
  'resume',
  'abort',
  'promoteNow',
];

/** Long enough for any person's or service's name; short enough to sit in an alert title. */
const MAX_ACTOR = 200;
const MAX_TEXT = 2000;

const storable = (max: number) =>
  z.string().check(
    z.maxLength(max),
    z.superRefine((text, ctx) => {
      const problem = unstorableText(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: text });
    }),
  );
const actor = storable(MAX_ACTOR).check(z.refine((s) => s.trim() !== '', '(who is acting) is required'));

export const approveInputSchema = z.strictObject({
  by: actor,
  comment: z.optional(storable(MAX_TEXT)),
  roles: z.optional(z.array(storable(100)).check(z.maxLength(50))),
});

export const actorInputSchema = z.strictObject({ by: actor, reason: z.optional(storable(MAX_TEXT)) });

/** An abort leaves the version retryable; `reject: true` also marks it rejected, a final status. */
export const abortInputSchema = z.strictObject({
  by: actor,
  reason: z.optional(storable(MAX_TEXT)),
  reject: z.optional(z.boolean()),
});

const schemaOf = (action: RolloutAction) =>
  action === 'approve' ? approveInputSchema : action === 'abort' ? abortInputSchema : actorInputSchema;

export type ActionInputOf<A extends RolloutAction> = A extends 'approve'
  ? ApproveInput
  : A extends 'abort'
    ? AbortInput
    : ActorInput;

export type ActionInputResult<A extends RolloutAction> =
  { ok: true; value: ActionInputOf<A> } | { ok: false; problem: string };

/** The payload as the action takes it, or the problem with it in words a person can act on. */
export function parseActionInput<A extends RolloutAction>(action: A, payload: unknown): ActionInputResult<A> {
  const parsed = schemaOf(action).safeParse(payload, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data as ActionInputOf<A> };
  return { ok: false, problem: describeIssue(action, parsed.error.issues[0]!) };
}

/** Example payload for each action, used in refusals and in the handlers' descriptions. */
export function examplePayload(action: RolloutAction): string {
  if (action === 'approve') return '{"by":"carol","comment":"offline metrics look good"}';
  if (action === 'abort') return '{"by":"carol","reason":"p95 latency alarms","reject":false}';
  return '{"by":"carol","reason":"why"}';
}

function describeIssue(action: RolloutAction, issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  const fields = Object.keys(schemaOf(action).shape).join(', ');
  if (issue.path.length === 0) {
    if (issue.code === 'unrecognized_keys') {
      const named = issue.keys.slice(0, 5).map((k) => shown(k, 60));
      if (issue.keys.length > 5) named.push(`${issue.keys.length - 5} more`);
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')} (${action} takes ${fields})`;
    }
    return `the payload must be one JSON object such as ${examplePayload(action)}, got ${shown(issue.input)}`;
  }
  if (field === 'by' && issue.input === undefined) return '`by` (who is acting) is required';
  if (issue.code === 'invalid_type')
    return issue.input === undefined
      ? `\`${field}\` is required`
      : `\`${field}\` must be ${issue.expected === 'string' ? 'text' : `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}`}, got ${shown(issue.input)}`;
  if (issue.code === 'too_big')
    return `\`${field}\` ${issue.origin === 'string' ? `is longer than ${issue.maximum} characters` : `has more than ${issue.maximum} items`}`;
  return `\`${field}\` ${issue.message}: ${shown(issue.input)}`;
}

/**
 * A value as JSON, cut to `max` characters: JSON escapes NUL and lone surrogates, so the result is text
 * PostgreSQL can store, whatever was sent.
 */
export function shown(value: unknown, max = 120): string {
  let text: string;
  try {
    text = value === undefined ? 'no payload' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  // Never end on half of a surrogate pair: that half alone is exactly what PostgreSQL refuses.
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
