/** Types only: the analysis verdict (src/rollout/types.ts) carries these, and the workflow bundle imports that. */

/** What one canary window's metric was capped at, or why it was not: stored with the analysis. */
export interface CapRecord {
  metric: string;
  /** The window's stage index. */
  stageIndex: number;
  /** The value every larger one counted as; null when the metric was compared uncapped. */
  cap: number | null;
  /** For a quantile cap: the quantile, and the champion history it was read from. */
  quantile?: number;
  basis?: { from: string; to: string; n: number };
  /** One sentence for people: the cap and where it came from, or why there is none. */
  note: string;
}
