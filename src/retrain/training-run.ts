import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/store.js';
import { HttpJobError, runHttpJob } from '../training/http-job.js';
import { ProcessJobError, runProcessJob } from '../training/process-job.js';
import { retrainFailure } from './failure.js';
import { configuredCommand } from './model-training-config.js';
import type { TrainingConfig } from './training-config.js';
import type { TrainingWindow } from './training-window.js';
import type { RetrainInput } from './types.js';

export interface TrainedCandidate {
  uri: string;
  digest: string;
  version: string;
  progress: Array<Record<string, unknown>>;
  /** The dates it was trained and is validated on, when the configuration has a window. */
  window: TrainingWindow | null;
}

/** What a training run needs from whatever hosts it (a Temporal activity). */
export interface TrainingHost {
  heartbeat(details: unknown): void;
  /** Aborted when the run is cancelled. */
  signal: AbortSignal;
  /** Settles as the host reports a cancellation (for Temporal: rejects with its CancelledFailure). */
  cancelled(): Promise<never>;
}

export interface TrainingRun {
  input: RetrainInput;
  config: TrainingConfig;
  /** The candidate's version, fixed for the job before training starts. */
  version: string;
  window: TrainingWindow | null;
  /** Asked for only once there is an artifact to store (a worker without a store fails then). */
  artifacts: () => ArtifactStore;
  host: TrainingHost;
}

/**
 * Trains a candidate with the configured backend (a child process or a training service) and stores its
 * artifact by digest. A failed or hung job is a `TrainingFailed` RetrainFailure; a cancelled one ends as
 * the host's cancellation.
 */
export async function trainCandidate(run: TrainingRun): Promise<TrainedCandidate> {
  const dir = await mkdtemp(join(tmpdir(), `arena-train-${run.input.jobId}-`));
  try {
    const trained =
      run.config.backend === 'http'
        ? await trainOverHttp(run)
        : await trainInProcess(run, join(dir, 'artifact'));
    const stored = await run.artifacts().put(trained.artifact);
    return { ...stored, version: run.version, progress: trained.progress, window: run.window };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface TrainingOutput {
  artifact: Uint8Array;
  progress: Array<Record<string, unknown>>;
}

async function trainOverHttp({ input, config, version, window, host }: TrainingRun): Promise<TrainingOutput> {
  const h = config.http!;
  const progress: Array<Record<string, unknown>> = [];
  const beat = setInterval(() => host.heartbeat({ step: 'waiting for the training service' }), 1_000);
  try {
    const artifact = await runHttpJob({
      url: h.url,
      headers: h.headers,
      body: { model: input.model, version, jobId: input.jobId, params: window ? { window } : {} },
      pollIntervalMs: h.pollInterval,
      timeoutMs: h.timeout,
      signal: host.signal,
      onProgress: (e) => {
        progress.push(e);
        host.heartbeat(e);
      },
    });
    return { artifact, progress };
  } catch (err) {
    if (host.signal.aborted) await host.cancelled();
    if (err instanceof HttpJobError) retrainFailure('TrainingFailed', err.message);
    throw err;
  } finally {
    clearInterval(beat);
  }
}

async function trainInProcess(
  { input, config, version, window, host }: TrainingRun,
  out: string,
): Promise<TrainingOutput> {
  const p = config.process!;
  const progress: Array<Record<string, unknown>> = [];
  // The job's liveness is its progress lines: while it prints within `heartbeatTimeout` the host heartbeats
  // (so Temporal knows this worker is alive); a job silent for longer is hung and killed.
  let lastProgress = Date.now();
  let hung = false;
  const hangGuard = new AbortController();
  const beat = setInterval(() => {
    if (Date.now() - lastProgress > p.heartbeatTimeout) {
      hung = true;
      hangGuard.abort();
    } else host.heartbeat({ step: progress.at(-1)?.step ?? 'running' });
  }, 500);
  host.signal.addEventListener('abort', () => hangGuard.abort(), { once: true });
  host.heartbeat({ step: 'starting' });
  let result;
  try {
    result = await runProcessJob({
      command: configuredCommand(p.command, {
        model: input.model,
        version,
        out,
        jobId: input.jobId,
        ...(window ?? {}),
      }),
      cwd: p.cwd,
      env: { ...process.env, ...p.env },
      signal: hangGuard.signal,
      timeoutMs: p.timeout,
      onEvent: (e) => {
        lastProgress = Date.now();
        progress.push(e);
        host.heartbeat(e);
      },
    });
  } catch (err) {
    if (hung)
      retrainFailure(
        'TrainingFailed',
        `training hung: no progress for ${p.heartbeatTimeout / 1000} s (heartbeat timeout); the job was killed`,
      );
    // Cancelled: report it as the host's cancellation (the workflow tells it from a failure).
    if (host.signal.aborted) await host.cancelled();
    if (err instanceof ProcessJobError)
      retrainFailure('TrainingFailed', `training failed: ${err.message}`, { stderr: err.stderrTail });
    throw err;
  } finally {
    clearInterval(beat);
  }
  const done = result.events.findLast((e) => e.event === 'done');
  const path = typeof done?.artifact === 'string' ? done.artifact : out;
  const artifact = await readFile(path).catch(() =>
    retrainFailure('TrainingFailed', `training finished but wrote no artifact at ${path}`),
  );
  return { artifact, progress };
}
