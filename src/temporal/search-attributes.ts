/**
 * Custom search attributes set by Arena's workflows so the Temporal Web UI can list rollouts by model,
 * version and state. Registered by the stack manager; in production, register them once per namespace.
 */
export const SEARCH_ATTRIBUTES = {
  ArenaModel: 'Keyword',
  ArenaVersion: 'Keyword',
  ArenaState: 'Keyword',
  ArenaStage: 'Keyword',
} as const;

export type ArenaSearchAttribute = keyof typeof SEARCH_ATTRIBUTES;
