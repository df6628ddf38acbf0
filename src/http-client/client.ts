import type { z } from 'zod';
import type { BatchOutcome } from '../ingest/recorder.js';
import type { FeedbackInput, PredictionInput } from '../ingest/records.js';
import type { PolicyInput } from '../policy/policy.js';
import type { RouteDecision, RoutingEntry } from '../routing/table.js';
import type { RolloutStatus } from '../rollout/types.js';
import type { modelSchema, versionSchema } from '../gateway/schemas/models.js';
import type { rolloutSummarySchema } from '../gateway/schemas/rollouts.js';

export type ModelVersionView = z.output<typeof versionSchema>;
export type ModelView = z.output<typeof modelSchema>;
export type RolloutSummaryView = z.output<typeof rolloutSummarySchema>;

/** An error answer of the gateway: its status, message (naming the field and value), hint and code. */
export class ArenaHttpError extends Error {
  override name = 'ArenaHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
    readonly code?: string,
  ) {
    super(hint ? `${message} (${hint})` : message);
  }
}

export interface ArenaHttpClientOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** A bearer token from ARENA_GATEWAY_TOKENS; its tenant and roles decide what this client may do. */
  token: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** For tests and custom agents. */
  fetch?: typeof fetch;
}

/** A cached routing entry: the entry, and whether the gateway answered 304 (unchanged) this time. */
export interface RoutingFetch {
  entry: RoutingEntry;
  etag: string;
  notModified: boolean;
}

/**
 * A typed client of Arena's HTTP API (docs/api.md) that needs neither the database nor Temporal: what a
 * service in another process, or a pipeline, uses. Types come from the gateway's own schemas.
 */
export class ArenaHttpClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: ArenaHttpClientOptions) {
    if (!o.baseUrl)
      throw new Error('ArenaHttpClient needs baseUrl (the gateway, e.g. http://127.0.0.1:8080)');
    if (!o.token) throw new Error('ArenaHttpClient needs token (a bearer token from ARENA_GATEWAY_TOKENS)');
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.fetch = o.fetch ?? fetch;
  }

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.o.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 400) {
      const e = (parsed ?? {}) as { error?: string; hint?: string; code?: string };
      throw new ArenaHttpError(res.status, e.error ?? `HTTP ${res.status}`, e.hint, e.code);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  private static seg(value: string): string {
    return encodeURIComponent(value);
  }

  /** The model's routing entry; with the ETag of a cached one, `notModified` tells it is still current. */
  async routing(model: string, cached?: { entry: RoutingEntry; etag: string }): Promise<RoutingFetch> {
    const r = await this.request<RoutingEntry | undefined>(
      'GET',
      `/v1/routing/${ArenaHttpClient.seg(model)}`,
      undefined,
      cached ? { 'if-none-match': cached.etag } : {},
    );
    if (r.status === 304 && cached) return { ...cached, notModified: true };
    return { entry: r.body!, etag: r.headers.get('etag') ?? `"${r.body!.generation}"`, notModified: false };
  }

  async route(
    model: string,
    requestId: string,
    opts: { unit?: string; segments?: Record<string, string> } = {},
  ) {
    return (await this.request<RouteDecision>('POST', '/v1/route', { model, requestId, ...opts })).body;
  }

  async recordPredictions(records: PredictionInput[]): Promise<BatchOutcome> {
    return (await this.request<BatchOutcome>('POST', '/v1/predictions', records)).body;
  }

  async recordFeedback(records: FeedbackInput[]): Promise<BatchOutcome> {
    return (await this.request<BatchOutcome>('POST', '/v1/feedback', records)).body;
  }

  async registerVersion(
    model: string,
    version: {
      version: string;
      artifactUri?: string;
      artifactDigest?: string;
      training?: Record<string, unknown>;
      metrics?: Record<string, unknown>;
      parentVersion?: string;
      description?: string;
    },
  ): Promise<{ version: ModelVersionView; created: boolean }> {
    const r = await this.request<ModelVersionView>(
      'POST',
      `/v1/models/${ArenaHttpClient.seg(model)}/versions`,
      version,
    );
    return { version: r.body, created: r.status === 201 };
  }

  async model(model: string): Promise<ModelView> {
    return (await this.request<ModelView>('GET', `/v1/models/${ArenaHttpClient.seg(model)}`)).body;
  }

  async setChampion(model: string, version: string, reason?: string): Promise<RoutingEntry> {
    return (
      await this.request<RoutingEntry>('POST', `/v1/models/${ArenaHttpClient.seg(model)}/champion`, {
        version,
        ...(reason ? { reason } : {}),
      })
    ).body;
  }

  async startRollout(model: string, challenger: string, policy?: PolicyInput) {
    return (
      await this.request<{ rolloutId: string; workflowId: string }>('POST', '/v1/rollouts', {
        model,
        challenger,
        ...(policy ? { policy } : {}),
      })
    ).body;
  }

  async rollouts(
    filter: { model?: string; state?: string; active?: boolean } = {},
  ): Promise<RolloutSummaryView[]> {
    const q = new URLSearchParams();
    if (filter.model) q.set('model', filter.model);
    if (filter.state) q.set('state', filter.state);
    if (filter.active !== undefined) q.set('active', String(filter.active));
    const query = q.size ? `?${q}` : '';
    return (await this.request<RolloutSummaryView[]>('GET', `/v1/rollouts${query}`)).body;
  }

  async rollout(rolloutId: string): Promise<RolloutStatus> {
    return (await this.request<RolloutStatus>('GET', `/v1/rollouts/${ArenaHttpClient.seg(rolloutId)}`)).body;
  }

  /** approve, reject, pause, resume, abort (needs a reason) or promote, as the token's owner. */
  async act(
    rolloutId: string,
    action: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promote',
    note: { comment?: string; reason?: string } = {},
  ): Promise<RolloutStatus> {
    return (
      await this.request<RolloutStatus>(
        'POST',
        `/v1/rollouts/${ArenaHttpClient.seg(rolloutId)}/${action}`,
        note,
      )
    ).body;
  }
}
