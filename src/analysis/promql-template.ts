/**
 * PromQL templates of a policy's Prometheus metrics (DESIGN.md §10): `{{model}}`, `{{version}}`, `{{arm}}`,
 * `{{interval}}` and `{{window}}`, nothing else. Values are substituted as they are, so a template quotes
 * label values itself (`version="{{version}}"`); what could break out of a quoted PromQL string (a quote, a
 * backslash, a newline) is escaped, so no model or version name can change the query around it.
 */
export const PROMQL_PLACEHOLDERS = ['model', 'version', 'arm', 'interval', 'window'] as const;
export type PromqlPlaceholder = (typeof PROMQL_PLACEHOLDERS)[number];
export type PromqlValues = Record<PromqlPlaceholder, string>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export class PromqlTemplateError extends Error {
  override name = 'PromqlTemplateError';
}

/** The placeholders a template names that do not exist; empty when it is usable. */
export function unknownPlaceholders(template: string): string[] {
  const unknown = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER))
    if (!(PROMQL_PLACEHOLDERS as readonly string[]).includes(m[1]!)) unknown.add(m[1]!);
  return [...unknown];
}

/** Escapes text for the inside of a double-quoted PromQL string (Go's string-literal rules). */
export function promqlStringContent(value: string): string {
  return value.replace(
    /[\\"\n\r\t]/g,
    (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!,
  );
}

export function renderPromql(template: string, values: PromqlValues): string {
  const unknown = unknownPlaceholders(template);
  if (unknown.length)
    throw new PromqlTemplateError(
      `unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(', ')}; use ${PROMQL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
    );
  return template.replace(PLACEHOLDER, (_, name: PromqlPlaceholder) => promqlStringContent(values[name]));
}

/** A duration in milliseconds as a PromQL range (`90s`): whole seconds, at least one. */
export function promqlDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}
