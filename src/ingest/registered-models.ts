import type pg from 'pg';
import type { WriterHealthTracker } from './recorder-health.js';
import type { Feedback, Prediction, Rejection } from './records.js';
import { describeWriteError } from './write-errors.js';

const REGISTRY = 'cannot read the model registry: ';

/**
 * The tenant's registered models and versions, cached, so that records of unknown ones are rejected
 * without a query per record. An unknown name reloads the cache, at most once a second.
 */
export class RegisteredModels {
  private known = new Map<string, Set<string>>();
  private knownLoadedAt = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly tenantId: string,
    private readonly health: WriterHealthTracker,
    /** When false every record passes (validateModels: false). */
    private readonly enabled: boolean,
  ) {}

  private async load(): Promise<void> {
    // A failure here (the database down before any write) makes the writer unhealthy too, so /healthz
    // shows it; the next successful read or write clears it.
    const { rows } = await this.pool
      .query<{ model: string; version: string }>(
        'select model, version from model_versions where tenant_id = $1',
        [this.tenantId],
      )
      .catch((err: unknown) => {
        this.health.set('failing', `${REGISTRY}${describeWriteError(err)}`);
        throw err;
      });
    if (this.health.reason?.startsWith(REGISTRY)) this.health.set('ok');
    const next = new Map<string, Set<string>>();
    for (const r of rows) (next.get(r.model) ?? next.set(r.model, new Set()).get(r.model)!).add(r.version);
    this.known = next;
    this.knownLoadedAt = Date.now();
  }

  /** Whether the record passes without a look at the registry (the cache's answer; most records). */
  knowsPrediction(p: Prediction): boolean {
    return !this.enabled || this.known.get(p.model)?.has(p.version) === true;
  }

  knowsFeedback(f: Feedback): boolean {
    return !this.enabled || this.known.has(f.model);
  }

  async checkPrediction(p: Prediction, index: number): Promise<Rejection | undefined> {
    if (this.knowsPrediction(p)) return undefined;
    // A model registered a moment ago: reload, but at most once a second however many unknowns arrive.
    if (Date.now() - this.knownLoadedAt > 1_000) await this.load();
    if (!this.known.has(p.model))
      return { index, field: 'model', reason: `unknown model ${JSON.stringify(p.model)}` };
    if (!this.known.get(p.model)!.has(p.version)) {
      return { index, field: 'version', reason: `model ${p.model} has no registered version ${p.version}` };
    }
    return undefined;
  }

  /** Feedback names only its model: any version of it may have made the prediction. */
  async checkFeedback(f: Feedback, index: number): Promise<Rejection | undefined> {
    if (this.knowsFeedback(f)) return undefined;
    if (Date.now() - this.knownLoadedAt > 1_000) await this.load();
    if (this.known.has(f.model)) return undefined;
    return { index, field: 'model', reason: `unknown model ${JSON.stringify(f.model)}` };
  }
}
