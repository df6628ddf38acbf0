import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { appendAudit } from '../src/db/audit.js';
import type { PolicyInput } from '../src/policy/policy.js';
import { InvalidInputError } from '../src/errors.js';
import { getVersion, registerVersion } from '../src/registry/registry.js';
import { parseVersion } from '../src/registry/version.js';
import { prepareRollout, type PreparedRollout } from '../src/rollout/prepare.js';
import { getRouting } from '../src/routing/store.js';
import { fillCommand, parseTrainingConfig, type TrainingConfig } from '../src/retrain/training-config.js';
import { resolveTrainingWindow, type TrainingWindow } from '../src/retrain/training-window.js';
import { triggerNeedsHumanApproval, type RetrainInput, type RetrainStatus } from '../src/retrain/types.js';
import { HttpJobError, runHttpJob } from '../src/training/http-job.js';
import { ProcessJobError, runProcessJob } from '../src/training/process-job.js';
import type { ActivityDeps } from './deps.js';

export interface TrainedCandidate {
  uri: string;
  digest: string;
  version: string;
  progress: Array<Record<string, unknown>>;
  /** The dates it was trained and is validated on, when the configuration has a window. */
  window: TrainingWindow | null;
}

export interface ValidationOutcome {
  passed: boolean;
  reason: string;
  candidate: { mae: number; n: number; accuracy?: number };
  champion: { mae: number; n: number; accuracy?: number };
  /** (champion − candidate) / champion on MAE: positive = the candidate is better. */
  improvement: number;
  /**
   * SHA-256 over the holdout data's digest, the digest of both models' forecasts of every holdout row (when
   * the validation command reports one), both artifacts' digests and both results: what was compared.
   */
  validationHash: string;
}

const FINAL: RetrainStatus[] = ['completed', 'failed', 'rolled_back'];

/** A job's own bad configuration or a failed run does not improve by retrying the activity. */
function fail(type: string, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : [] });
}

/**
 * Retraining: status records, running the model's training command (heartbeating, cancellable), validating
 * the candidate against the champion on a holdout, registering it with its lineage and preparing its
 * rollout. Every write is keyed by the job id, so a retried activity changes nothing the second time.
 */
export function retrainActivities({ knex, artifacts, rolloutWorkflowPrefix }: ActivityDeps) {
  const store = (): NonNullable<ActivityDeps['artifacts']> => {
    if (!artifacts) fail('ConfigurationError', 'this worker has no artifact store configured');
    return artifacts;
  };
  const loadConfig = async (tenantId: string, model: string): Promise<TrainingConfig> => {
    const row = (await knex('models').where({ tenant_id: tenantId, name: model }).first('metadata')) as
      { metadata: { training?: unknown } } | undefined;
    if (!row) fail('UnknownModelError', `unknown model ${model}`);
    if (!row.metadata.training)
      fail(
        'ConfigurationError',
        `model ${model} has no training configuration; set one with: arena retrain configure ${model} --config FILE`,
      );
    try {
      return parseTrainingConfig(row.metadata.training, `models.metadata.training of ${model}`);
    } catch (err) {
      fail('ConfigurationError', (err as Error).message);
    }
  };
  /** Anchored on the job's creation, so every attempt (and the validation) uses the same dates. */
  const jobWindow = async (input: RetrainInput, config: TrainingConfig): Promise<TrainingWindow | null> => {
    if (!config.window) return null;
    const job = (await knex('retraining_jobs').where({ id: input.jobId }).first('created_at')) as
      { created_at: Date } | undefined;
    if (!job) fail('UnknownJobError', `no retraining job ${input.jobId}`);
    return resolveTrainingWindow(config.window, job.created_at);
  };
  const fill = (command: string[], values: Record<string, string>): string[] => {
    try {
      return fillCommand(command, values);
    } catch (err) {
      fail('ConfigurationError', (err as Error).message);
    }
  };

  return {
    async recordRetrainStatus(args: {
      input: RetrainInput;
      status: RetrainStatus;
      metrics?: unknown;
      candidateVersion?: string;
      error?: string;
    }): Promise<void> {
      const { input, status } = args;
      await knex.transaction(async (trx) => {
        const row = (await trx('retraining_jobs').where({ id: input.jobId }).forUpdate().first('status')) as
          { status: RetrainStatus } | undefined;
        if (!row) fail('UnknownJobError', `no retraining job ${input.jobId}`);
        // A retried write after the job moved on, or a second final status, changes nothing.
        if (FINAL.includes(row.status)) return;
        await trx('retraining_jobs')
          .where({ id: input.jobId })
          .update({
            status,
            updated_at: trx.fn.now(),
            ...(status === 'running' ? { started_at: trx.fn.now() } : {}),
            ...(FINAL.includes(status) ? { finished_at: trx.fn.now() } : {}),
            ...(args.metrics !== undefined ? { metrics: JSON.stringify(args.metrics) } : {}),
            ...(args.candidateVersion ? { candidate_version: args.candidateVersion } : {}),
            ...(args.error ? { error: args.error } : {}),
          });
        await appendAudit(trx, {
          tenantId: input.tenantId,
          actor: status === 'pending' ? input.requestedBy : 'arena',
          action: `retrain.${status}`,
          entityType: 'retraining_job',
          entityId: input.jobId,
          details: {
            model: input.model,
            trigger: input.trigger,
            reason: args.error ?? input.reason,
            ...(args.candidateVersion ? { candidate: args.candidateVersion } : {}),
            ...(args.metrics !== undefined ? { metrics: args.metrics } : {}),
          },
          idempotencyKey: `retrain:${input.jobId}:${status}`,
        });
      });
    },

    async runTraining(input: RetrainInput): Promise<TrainedCandidate> {
      const config = await loadConfig(input.tenantId, input.model);
      const version = await candidateVersion(input);
      const window = await jobWindow(input, config);
      const ctx = Context.current();
      const dir = await mkdtemp(join(tmpdir(), `arena-train-${input.jobId}-`));
      try {
        const out = join(dir, 'artifact');
        if (config.backend === 'http') {
          const h = config.http!;
          const progress: Array<Record<string, unknown>> = [];
          const beat = setInterval(() => ctx.heartbeat({ step: 'waiting for the training service' }), 1_000);
          try {
            const bytes = await runHttpJob({
              url: h.url,
              headers: h.headers,
              body: { model: input.model, version, jobId: input.jobId, params: window ? { window } : {} },
              pollIntervalMs: h.pollInterval,
              timeoutMs: h.timeout,
              signal: ctx.cancellationSignal,
              onProgress: (e) => {
                progress.push(e);
                ctx.heartbeat(e);
              },
            });
            return { ...(await store().put(bytes)), version, progress, window };
          } catch (err) {
            if (ctx.cancellationSignal.aborted) await ctx.cancelled;
            if (err instanceof HttpJobError) fail('TrainingFailed', err.message);
            throw err;
          } finally {
            clearInterval(beat);
          }
        }
        const p = config.process!;
        const progress: Array<Record<string, unknown>> = [];
        // The job's liveness is its progress lines: while it prints within `heartbeatTimeout` the activity
        // heartbeats (so Temporal knows this worker is alive); a job silent for longer is hung and killed.
        let lastProgress = Date.now();
        let hung = false;
        const hangGuard = new AbortController();
        const beat = setInterval(() => {
          if (Date.now() - lastProgress > p.heartbeatTimeout) {
            hung = true;
            hangGuard.abort();
          } else ctx.heartbeat({ step: progress.at(-1)?.step ?? 'running' });
        }, 500);
        ctx.cancellationSignal.addEventListener('abort', () => hangGuard.abort(), { once: true });
        ctx.heartbeat({ step: 'starting' });
        let result;
        try {
          result = await runProcessJob({
            command: fill(p.command, {
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
              ctx.heartbeat(e);
            },
          });
        } catch (err) {
          if (hung)
            fail(
              'TrainingFailed',
              `training hung: no progress for ${p.heartbeatTimeout / 1000} s (heartbeat timeout); the job was killed`,
            );
          // Cancelled: report it as Temporal's cancellation (the workflow tells it from a failure).
          if (ctx.cancellationSignal.aborted) await ctx.cancelled;
          if (err instanceof ProcessJobError)
            fail('TrainingFailed', `training failed: ${err.message}`, { stderr: err.stderrTail });
          throw err;
        } finally {
          clearInterval(beat);
        }
        const done = result.events.findLast((e) => e.event === 'done');
        const path = typeof done?.artifact === 'string' ? done.artifact : out;
        const bytes = await readFile(path).catch(() =>
          fail('TrainingFailed', `training finished but wrote no artifact at ${path}`),
        );
        const stored = await store().put(bytes);
        return { ...stored, version, progress, window };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },

    async validateCandidate(args: {
      input: RetrainInput;
      candidate: TrainedCandidate;
    }): Promise<ValidationOutcome> {
      const { input, candidate } = args;
      const config = await loadConfig(input.tenantId, input.model);
      const routing = await getRouting(knex, input.model, input.tenantId);
      if (!routing.champion) fail('NoChampion', `model ${input.model} has no champion to validate against`);
      const champion = await getVersion(knex, input.model, routing.champion, input.tenantId);
      if (!champion.artifactUri || !champion.artifactDigest)
        fail('ConfigurationError', `champion ${champion.version} has no registered artifact to compare with`);
      const dir = await mkdtemp(join(tmpdir(), `arena-validate-${input.jobId}-`));
      try {
        // Both artifacts come from the content-addressed store and must still match their digests.
        const files = { candidate: join(dir, 'candidate'), champion: join(dir, 'champion') };
        const fetchVerified = (uri: string, digest: string): Promise<Uint8Array> =>
          store()
            .get(uri, digest)
            .catch((err: Error) => fail('ArtifactRefused', err.message));
        await writeFile(files.candidate, await fetchVerified(candidate.uri, candidate.digest));
        await writeFile(files.champion, await fetchVerified(champion.artifactUri, champion.artifactDigest));
        const command = fill(config.validate.command, { ...files, ...(candidate.window ?? {}) });
        let out;
        try {
          out = await runProcessJob({
            command,
            cwd: config.validate.cwd,
            timeoutMs: 10 * 60_000,
          });
        } catch (err) {
          fail('ValidationFailed', `validation could not run: ${(err as Error).message}`);
        }
        const result = out.events.at(-1) as
          | {
              candidate?: ValidationOutcome['candidate'];
              champion?: ValidationOutcome['champion'];
              holdoutSha256?: string;
              forecastsSha256?: string;
            }
          | undefined;
        if (!result?.candidate || !result.champion || typeof result.candidate.mae !== 'number')
          fail('ValidationFailed', 'the validation command printed no { candidate, champion } result');
        const improvement = (result.champion.mae - result.candidate.mae) / result.champion.mae;
        const floor = config.validate;
        const reasons: string[] = [];
        if (!(improvement >= floor.minImprovement))
          reasons.push(
            `MAE ${result.candidate.mae.toFixed(3)} vs champion ${result.champion.mae.toFixed(3)}: ${(improvement * 100).toFixed(1)}% better, needs ≥ ${(floor.minImprovement * 100).toFixed(1)}%`,
          );
        if (typeof result.candidate.accuracy === 'number' && result.candidate.accuracy < floor.accuracyFloor)
          reasons.push(
            `accuracy ${(result.candidate.accuracy * 100).toFixed(1)}% below the floor ${(floor.accuracyFloor * 100).toFixed(1)}%`,
          );
        const validationHash = createHash('sha256')
          .update(
            JSON.stringify([
              result.holdoutSha256 ?? null,
              result.forecastsSha256 ?? null,
              candidate.digest,
              champion.artifactDigest,
              result.candidate,
              result.champion,
            ]),
          )
          .digest('hex');
        return {
          passed: reasons.length === 0,
          reason: reasons.length
            ? `below the floor: ${reasons.join('; ')}`
            : `MAE ${result.candidate.mae.toFixed(3)} vs champion ${result.champion.mae.toFixed(3)} on the holdout: ${(improvement * 100).toFixed(1)}% better`,
          candidate: result.candidate,
          champion: result.champion,
          improvement,
          validationHash,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },

    async registerCandidate(args: {
      input: RetrainInput;
      candidate: TrainedCandidate;
      validation: ValidationOutcome;
    }): Promise<string> {
      const { input, candidate, validation } = args;
      const routing = await getRouting(knex, input.model, input.tenantId);
      await registerVersion(knex, {
        tenantId: input.tenantId,
        model: input.model,
        version: candidate.version,
        actor: 'arena',
        artifactUri: candidate.uri,
        artifactDigest: candidate.digest,
        ...(routing.champion ? { parentVersion: routing.champion } : {}),
        training: {
          jobId: input.jobId,
          trigger: input.trigger,
          reason: input.reason,
          requestedBy: input.requestedBy,
          ...(candidate.window ? { window: candidate.window } : {}),
          dataSha256: trainingDataDigest(candidate.progress),
          validationHash: validation.validationHash,
          holdout: validation.candidate,
          progress: candidate.progress.filter((e) => e.event === 'done'),
        },
        metrics: {
          holdout: validation.candidate,
          championOnHoldout: validation.champion,
          improvement: validation.improvement,
          validationHash: validation.validationHash,
        },
      });
      return candidate.version;
    },

    async prepareRetrainRollout(args: { input: RetrainInput; version: string }): Promise<PreparedRollout> {
      const { input } = args;
      const config = await loadConfig(input.tenantId, input.model);
      const base = (config.rollout.policy ?? {}) as PolicyInput;
      const auto = config.rollout.autoApprove && !triggerNeedsHumanApproval(input.trigger);
      const policy: PolicyInput = auto
        ? { ...base, approval: { ...(base.approval ?? {}), required: false } }
        : { ...base, approval: { ...(base.approval ?? {}), required: true } };
      try {
        return await prepareRollout(
          knex,
          input.tenantId,
          {
            model: input.model,
            challenger: args.version,
            policy,
            proposedBy: `retrain:${input.jobId}`,
            rolloutId: `${input.model}-retrain-${input.jobId}`,
          },
          rolloutWorkflowPrefix,
        );
      } catch (err) {
        if (err instanceof InvalidInputError) fail(err.name, err.message);
        throw err;
      }
    },
  };

  /** The digest of the rows it was trained on, as the training job reported it (its last report wins). */
  function trainingDataDigest(progress: TrainedCandidate['progress']): string | null {
    const reported = progress
      .map((e) => e.trainingDataSha256 ?? e.dataSha256)
      .filter((d): d is string => typeof d === 'string');
    return reported.at(-1) ?? null;
  }

  /** The champion's next minor version, marked with the job: `1.3.0+retrain.<job>` (stable for the job). */
  async function candidateVersion(input: RetrainInput): Promise<string> {
    const rows = (await knex('model_versions')
      .where({ tenant_id: input.tenantId, model: input.model })
      .select('major', 'minor', 'version', 'training')) as Array<{
      major: number;
      minor: number;
      version: string;
      training: { jobId?: string };
    }>;
    const mine = rows.find((r) => r.training.jobId === input.jobId);
    if (mine) return mine.version;
    const top = rows.reduce(
      (best, r) => (r.major > best.major || (r.major === best.major && r.minor > best.minor) ? r : best),
      {
        major: 0,
        minor: 0,
      },
    );
    return parseVersion(
      `${top.major}.${top.minor + 1}.0+retrain.${input.jobId.replace(/[^0-9A-Za-z-]/g, '-')}`,
    ).version;
  }
}
