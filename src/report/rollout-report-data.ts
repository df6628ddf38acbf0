import type { Knex } from 'knex';
import { min } from 'simple-statistics';
import type { Policy } from '../policy/policy.js';
import { alertsOfRollout } from '../alerts/alert-store.js';
import { reportAlert, type ReportAlert } from './report-alert.js';
import { approvalsOfSubject } from '../approvals/approval-store.js';
import { RegistryError } from '../errors.js';
import { getRolloutRow, listAnalyses, listRolloutEvents } from '../rollout/store.js';
import { routingHistoryDuring } from '../routing/store.js';
import type { GateResult } from '../stats/gate/index.js';
import type { ForestPlot } from './forest-plot.js';

/** Everything a rollout report shows, read from Postgres only (JSON-serialisable). */
export interface RolloutReportData {
  rollout: {
    id: string;
    model: string;
    champion: string | null;
    challenger: string;
    state: string;
    decision: string | null;
    proposedBy: string;
    createdAt: string;
    endedAt: string | null;
    workflowId: string;
    policy: Policy;
  };
  /** The challenger's share of served traffic after each routing change (a step function). */
  traffic: Array<{
    at: string;
    challengerPct: number;
    shadow: boolean;
    generation: number;
    by: string;
    reason: string | null;
  }>;
  analyses: Array<{
    seq: number;
    at: string;
    stageIndex: number;
    mode: string;
    decision: string;
    action: string;
    summary: string;
    samples: { champion: number; challenger: number };
    primary: {
      metric: string;
      champion: number;
      challenger: number;
      estimate: number;
      low: number;
      high: number;
      pValue: number;
      minImprovement: number;
    } | null;
    guardrails: Array<{
      metric: string;
      status: string;
      champion: number;
      challenger: number;
      /** The tightest absolute limit on the challenger's value (max, or rollbackAbove), if any. */
      limit: number | null;
      checks: Array<{ kind: string; limit: number; scale: string; estimate: number; status: string }>;
    }>;
    /** Capped primary metrics of this analysis: each canary stage's cap, or why it was compared uncapped. */
    caps: Array<{ metric: string; stageIndex: number; cap: number | null; note: string }>;
    /** The per-segment check of this analysis (a forest plot), when the policy has one. */
    segments: ForestPlot | null;
  }>;
  events: Array<{
    seq: number;
    at: string;
    type: string;
    from: string | null;
    to: string | null;
    actor: string;
    reason: string | null;
  }>;
  approvals: Array<{ subject: string; actor: string; decision: string; comment: string | null; at: string }>;
  alerts: ReportAlert[];
  /** A link to the workflow in the Temporal Web UI, when the caller knows where the UI is. */
  temporalUi: string | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function gateOf(details: unknown): GateResult | null {
  const g = details as Partial<GateResult> | null | undefined;
  return g && Array.isArray(g.metrics) && Array.isArray(g.guardrails) ? (g as GateResult) : null;
}

/** Reads one rollout's whole story: its row, routing changes, analyses, events, approvals and alerts. */
export async function loadRolloutReport(
  knex: Knex,
  rolloutId: string,
  opts: { tenantId?: string; temporalUi?: string | null; namespace?: string } = {},
): Promise<RolloutReportData> {
  const tenantId = opts.tenantId ?? 'default';
  const r = await getRolloutRow(knex, tenantId, rolloutId);
  if (!r)
    throw new RegistryError('not_found', `No rollout ${rolloutId}`, 'List rollouts with: arena rollout list');
  const start = new Date(r.created_at);
  const end = r.ended_at ? new Date(r.ended_at) : new Date();
  const [routing, analyses, events, approvals, alerts] = await Promise.all([
    routingHistoryDuring(knex, tenantId, r.model, start, end),
    listAnalyses(knex, tenantId, rolloutId),
    listRolloutEvents(knex, tenantId, rolloutId),
    approvalsOfSubject(knex, tenantId, rolloutId),
    alertsOfRollout(knex, tenantId, rolloutId),
  ]);
  const challenger = r.challenger;
  const traffic = routing
    .sort((a, b) => Number(a.generation) - Number(b.generation))
    .map((h) => {
      const shadow = h.mode === 'shadow' && (h.shadow.includes(challenger) || h.challenger === challenger);
      const share =
        h.champion === challenger
          ? 100
          : h.mode === 'canary' && h.challenger === challenger
            ? Number(h.weight_bp) / 100
            : 0;
      return {
        at: iso(h.at)!,
        challengerPct: share,
        shadow,
        generation: Number(h.generation),
        by: h.changed_by,
        reason: h.reason ?? null,
      };
    });
  return {
    rollout: {
      id: r.id,
      model: r.model,
      champion: r.champion,
      challenger,
      state: r.state,
      decision: r.decision,
      proposedBy: r.proposed_by,
      createdAt: iso(r.created_at)!,
      endedAt: iso(r.ended_at),
      workflowId: r.workflow_id,
      policy: r.policy as Policy,
    },
    traffic,
    analyses: analyses.map((a) => {
      const gate = gateOf(a.details);
      const m = gate?.metrics[0];
      return {
        seq: a.seq,
        at: a.at,
        stageIndex: a.stageIndex,
        mode: a.mode,
        decision: a.decision,
        action: a.action,
        summary: a.summary,
        samples: a.samples,
        caps: (a.caps ?? []).map((c) => ({
          metric: c.metric,
          stageIndex: c.stageIndex,
          cap: c.cap,
          note: c.note,
        })),
        primary: m
          ? {
              metric: m.metric,
              champion: m.champion.value,
              challenger: m.challenger.value,
              estimate: m.improvement.estimate,
              low: m.improvement.interval[0],
              high: m.improvement.interval[1],
              pValue: m.pValue,
              minImprovement: m.minImprovement,
            }
          : null,
        segments: gate?.segments ? forestPlotOf(gate) : null,
        guardrails: (gate?.guardrails ?? []).map((g) => {
          const absolute = g.checks.filter((c) => c.scale === 'absolute').map((c) => c.limit);
          return {
            metric: g.metric,
            status: g.status,
            champion: g.champion.value,
            challenger: g.challenger.value,
            limit: absolute.length ? min(absolute) : null,
            checks: g.checks.map((c) => ({
              kind: c.kind,
              limit: c.limit,
              scale: c.scale,
              estimate: c.estimate,
              status: c.status,
            })),
          };
        }),
      };
    }),
    events: events.map((e) => ({
      seq: Number(e.seq),
      at: iso(e.at)!,
      type: e.type,
      from: e.from_state ?? null,
      to: e.to_state ?? null,
      actor: e.actor ?? 'arena',
      reason: e.reason ?? null,
    })),
    approvals: approvals.map((a) => ({
      subject: a.subject_type,
      actor: a.actor,
      decision: a.decision,
      comment: a.comment ?? null,
      at: iso(a.at)!,
    })),
    alerts: alerts.map(reportAlert),
    temporalUi: opts.temporalUi
      ? `${opts.temporalUi}/namespaces/${opts.namespace ?? 'default'}/workflows/${encodeURIComponent(r.workflow_id)}`
      : null,
  };
}

/**
 * The analysis whose figures decided: the last one before the watch window that had data (the watch
 * compares the new champion with its own past, a different question), else the last one.
 */
export function decisiveAnalysis(data: RolloutReportData): RolloutReportData['analyses'][number] | undefined {
  return (
    [...data.analyses].reverse().find((a) => a.mode !== 'watch' && a.primary && a.decision !== 'waiting') ??
    data.analyses.at(-1)
  );
}

/** Every stage's cap of every capped metric, as the latest analysis that judged that stage recorded it. */
export function reportCaps(data: RolloutReportData): RolloutReportData['analyses'][number]['caps'] {
  const latest = new Map<string, RolloutReportData['analyses'][number]['caps'][number]>();
  for (const a of data.analyses) for (const c of a.caps) latest.set(`${c.stageIndex}\u0000${c.metric}`, c);
  return [...latest.values()].sort((a, b) => a.stageIndex - b.stageIndex || a.metric.localeCompare(b.metric));
}

/** The segment check of a gate result, with the pooled estimate of its metric as the reference row. */
function forestPlotOf(gate: GateResult): ForestPlot {
  const s = gate.segments!;
  const pooled = gate.metrics.find((m) => m.metric === s.metric);
  return {
    metric: s.metric,
    onWorse: s.onWorse,
    status: s.status,
    reason: s.reason,
    rows: s.verdicts.map((v) => ({
      segment: v.segment,
      n: v.n,
      tested: v.tested,
      estimate: v.improvement,
      low: v.interval?.[0] ?? null,
      high: v.interval?.[1] ?? null,
      adjustedPValue: v.adjustedPValue,
      worse: v.worse,
    })),
    pooled:
      pooled && pooled.status !== 'waiting'
        ? {
            estimate: pooled.improvement.estimate,
            low: pooled.improvement.interval[0],
            high: pooled.improvement.interval[1],
          }
        : null,
  };
}
