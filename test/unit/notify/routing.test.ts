import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/alerts/alert-store.js';
import { parseNotifyConfig, sinkTakes } from '../../../src/notify/config.js';
import { figuresOf, slackPayload } from '../../../src/notify/payload.js';

const alert = (over: Partial<Alert>): Alert => ({
  id: 7,
  type: 'rollout_promoted',
  severity: 'info',
  status: 'unread',
  model: 'm',
  rolloutId: 'r-1',
  title: 'm 1.1.0 promoted',
  details: {},
  actionedBy: null,
  createdAt: '2026-12-04T00:00:00.000Z',
  updatedAt: '2026-12-04T00:00:00.000Z',
  ...over,
});

describe('routing events to sinks by type and severity', () => {
  const sinks = parseNotifyConfig(
    {
      sinks: [
        { name: 'pager', url: 'http://x/p', severities: ['critical'] },
        { name: 'retrains', url: 'http://x/r', severities: ['info', 'warning'], types: ['retrain_*'] },
        { name: 'exact', url: 'http://x/e', severities: ['info'], types: ['rollout_promoted'] },
      ],
    },
    'test',
  ).sinks;
  const takers = (severity: string, type: string) =>
    sinks.filter((s) => sinkTakes(s, severity, type)).map((s) => s.name);

  it('defaults to every type, and both filters must pass', () => {
    expect(sinks[0]!.types).toEqual(['*']);
    expect(takers('critical', 'rollback_executed')).toEqual(['pager']);
    expect(takers('warning', 'retrain_failed')).toEqual(['retrains']);
    expect(takers('info', 'retrain_completed')).toEqual(['retrains']);
    expect(takers('info', 'rollout_promoted')).toEqual(['exact']);
    expect(takers('warning', 'rollout_promoted')).toEqual([]);
    expect(takers('info', 'experiment_decision')).toEqual([]);
  });

  it('refuses a type that matches nothing Arena raises, naming the field and the value', () => {
    expect(() =>
      parseNotifyConfig(
        { sinks: [{ name: 'a', url: 'http://x', types: ['rollout_promotd'] }] },
        'notify.yaml',
      ),
    ).toThrow(/notify\.yaml: sinks\.0\.types\.0.*rollout_promotd.*must be \*, an event type/);
    expect(() =>
      parseNotifyConfig({ sinks: [{ name: 'a', url: 'http://x', types: ['nothing_*'] }] }, 'notify.yaml'),
    ).toThrow(/nothing_\*/);
    expect(() =>
      parseNotifyConfig({ sinks: [{ name: 'a', url: 'http://x', types: [] }] }, 'notify.yaml'),
    ).toThrow(/sinks\.0\.types/);
    // Names an object has by inheritance are not event types.
    expect(() =>
      parseNotifyConfig({ sinks: [{ name: 'a', url: 'http://x', types: ['constructor'] }] }, 'notify.yaml'),
    ).toThrow(/constructor/);
  });
});

describe('Slack payloads', () => {
  it('shows the figures as fields and links to the Web UI and the report', () => {
    const body = slackPayload(
      alert({ details: { figures: { decision: 'pass', 'p-value': 0.001, nested: { no: 1 } } } }),
      { temporalUi: 'http://ui/namespaces/prod/workflows/w', report: 'http://arena/v1/rollouts/r-1/report' },
    );
    expect(body.text).toBe(':information_source: [info] m 1.1.0 promoted');
    const fields = body.blocks.flatMap((b) => ('fields' in b ? (b.fields ?? []) : []).map((f) => f.text));
    expect(fields).toContain('*decision* pass');
    expect(fields).toContain('*p-value* 0.001');
    expect(fields.join(' ')).not.toContain('nested');
    const context = JSON.stringify(body.blocks.at(-1));
    expect(context).toContain('<http://ui/namespaces/prod/workflows/w|Temporal Web UI>');
    expect(context).toContain('<http://arena/v1/rollouts/r-1/report|Report>');
  });

  it('says what to do next: approve a waiting rollout; nothing for a resolution', () => {
    const asked = JSON.stringify(
      slackPayload(alert({ type: 'approval_requested', severity: 'warning' }), {}),
    );
    expect(asked).toContain('arena rollout approve r-1 --by YOU');
    const resolved = slackPayload(
      alert({ type: 'champion_resolved', severity: 'critical', title: 'ok' }),
      {},
    );
    expect(resolved.text).toBe(':white_check_mark: [resolved] ok');
  });

  it('takes at most ten figures (Slack refuses more fields in a section)', () => {
    const figures = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`f${i}`, i]));
    expect(figuresOf(alert({ details: { figures } }))).toHaveLength(14);
    const body = slackPayload(alert({ details: { figures } }), {});
    expect(body.blocks.map((b) => ('fields' in b ? (b.fields?.length ?? 0) : 0))).toContain(10);
  });
});
