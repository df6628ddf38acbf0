import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../../src/config/env.js';
import { tracingRequested } from '../../../src/tracing/requested.js';

describe('loadEnv', () => {
  it('applies defaults when nothing is set', () => {
    const env = loadEnv({});
    expect(env.TEMPORAL_NAMESPACE).toBe('default');
    expect(env.ARENA_TEMPORAL_PORT).toBe(7233);
    expect(env.arenaHome.endsWith('.arena')).toBe(true);
  });

  it('names the variable and the value that is wrong', () => {
    expect(() => loadEnv({ DATABASE_URL: 'mysql://x', TEMPORAL_ADDRESS: 'nohostport' })).toThrow(ConfigError);
    const load = (): unknown => loadEnv({ DATABASE_URL: 'mysql://x', ARENA_TEMPORAL_PORT: '99999' });
    expect(load).toThrow('DATABASE_URL="mysql://x"');
    expect(load).toThrow('ARENA_TEMPORAL_PORT="99999"');
  });

  it('sizes the worker from ARENA_WORKER_*_SLOTS and refuses nonsense', () => {
    expect(loadEnv({})).toMatchObject({
      ARENA_WORKER_WORKFLOW_TASK_SLOTS: 200,
      ARENA_WORKER_LOCAL_ACTIVITY_SLOTS: 200,
      ARENA_WORKER_ACTIVITY_SLOTS: 2000,
    });
    expect(() => loadEnv({ ARENA_WORKER_ACTIVITY_SLOTS: '0' })).toThrow('ARENA_WORKER_ACTIVITY_SLOTS="0"');
    expect(loadEnv({ ARENA_WORKER_WORKFLOW_TASK_SLOTS: '64' }).ARENA_WORKER_WORKFLOW_TASK_SLOTS).toBe(64);
    expect(() => loadEnv({ ARENA_WORKER_WORKFLOW_TASK_SLOTS: '1' })).toThrow(
      'ARENA_WORKER_WORKFLOW_TASK_SLOTS="1"',
    );
    expect(() => loadEnv({ ARENA_WORKER_LOCAL_ACTIVITY_SLOTS: 'lots' })).toThrow(
      'ARENA_WORKER_LOCAL_ACTIVITY_SLOTS="lots"',
    );
  });

  it('serves worker metrics only where told, and refuses an address that is not host:port', () => {
    expect(loadEnv({}).ARENA_WORKER_METRICS_ADDRESS).toBeUndefined();
    expect(loadEnv({ ARENA_WORKER_METRICS_ADDRESS: '0.0.0.0:9464' }).ARENA_WORKER_METRICS_ADDRESS).toBe(
      '0.0.0.0:9464',
    );
    expect(() => loadEnv({ ARENA_WORKER_METRICS_ADDRESS: '9464' })).toThrow(
      'ARENA_WORKER_METRICS_ADDRESS="9464": must be host:port',
    );
    expect(() => loadEnv({ ARENA_WORKER_SDK_METRICS_ADDRESS: 'http://x:1' })).toThrow(
      'ARENA_WORKER_SDK_METRICS_ADDRESS="http://x:1"',
    );
  });

  it('traces only when an OTLP endpoint is set and the SDK not disabled, and refuses one that is no URL', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBe(false);
    expect(() => loadEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": must be an http(s) URL',
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
