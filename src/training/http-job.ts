import { z } from 'zod';

const submitted = z.object({ jobId: z.string().min(1) });
const polled = z.object({
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  artifactUrl: z.string().url().optional(),
  error: z.string().optional(),
  progress: z.record(z.string(), z.unknown()).optional(),
});

export class HttpJobError extends Error {
  override name = 'HttpJobError';
}

/**
 * A training job on a training service: POST {url} { model, version, jobId, params } → { jobId }, then
 * GET {url}/{jobId} → { status: queued|running|succeeded|failed, artifactUrl?, error?, progress? } until it
 * ends, then the artifact's bytes from artifactUrl. The submission carries Idempotency-Key = Arena's job id,
 * so a retried activity finds the same remote job instead of starting a second one. Cancelling through
 * `signal` sends DELETE {url}/{jobId} (best effort) and stops polling.
 */
export async function runHttpJob(opts: {
  url: string;
  headers: Record<string, string>;
  /** `params` carries what the service needs to know about the job (the training window, when configured). */
  body: { model: string; version: string; jobId: string; params: Record<string, unknown> };
  pollIntervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress?: (p: Record<string, unknown>) => void;
}): Promise<Uint8Array> {
  const headers = { 'content-type': 'application/json', ...opts.headers };
  const started = Date.now();
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': opts.body.jobId },
    body: JSON.stringify(opts.body),
    signal: opts.signal,
  });
  if (!res.ok)
    throw new HttpJobError(
      `training service refused the job: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`,
    );
  const remote = submitted.safeParse(await res.json());
  if (!remote.success) throw new HttpJobError('training service answered without a jobId');
  const jobUrl = `${opts.url.replace(/\/$/, '')}/${encodeURIComponent(remote.data.jobId)}`;
  const cancel = (): void => {
    void fetch(jobUrl, { method: 'DELETE', headers }).catch(() => undefined);
  };
  opts.signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      if (Date.now() - started > opts.timeoutMs)
        throw new HttpJobError(`training did not finish within ${opts.timeoutMs / 1000} s`);
      const r = await fetch(jobUrl, { headers, signal: opts.signal });
      if (!r.ok) throw new HttpJobError(`polling ${jobUrl}: HTTP ${r.status}`);
      const s = polled.safeParse(await r.json());
      if (!s.success)
        throw new HttpJobError(`polling ${jobUrl}: unexpected answer (${s.error.issues[0]!.message})`);
      opts.onProgress?.({ status: s.data.status, ...(s.data.progress ?? {}) });
      if (s.data.status === 'failed')
        throw new HttpJobError(`training failed on the service: ${s.data.error ?? 'no reason given'}`);
      if (s.data.status === 'succeeded') {
        if (!s.data.artifactUrl)
          throw new HttpJobError('training succeeded but the service gave no artifactUrl');
        const a = await fetch(s.data.artifactUrl, { headers: opts.headers, signal: opts.signal });
        if (!a.ok) throw new HttpJobError(`fetching the artifact: HTTP ${a.status}`);
        return new Uint8Array(await a.arrayBuffer());
      }
      await new Promise((resolve) => setTimeout(resolve, opts.pollIntervalMs));
    }
  } finally {
    opts.signal.removeEventListener('abort', cancel);
  }
}
