import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { runCli } from '../support/cli.js';

describe('arena dev up', () => {
  it('prints the endpoints as JSON, reuses what runs, and the Web UI answers 200', async () => {
    const stack = inject('stack');
    for (let i = 0; i < 2; i++) {
      const { code, stdout, stderr } = await runCli(['dev', 'up', '--json']);
      expect(code, stderr).toBe(0);
      const out = JSON.parse(stdout);
      expect(out).toMatchObject({
        temporal: { address: stack.temporalAddress },
        database: { url: expect.stringMatching(/^postgres/) },
      });
      // The test run's global setup already brought the stack up, so both runs reuse it.
      expect(out.how.temporal).toMatch(/reused|TEMPORAL_ADDRESS/);
      expect(out.how.database).toMatch(/reused|DATABASE_URL/);
      if (out.temporal.ui) {
        const res = await fetch(out.temporal.ui);
        expect(res.status).toBe(200);
      }
    }
  });

  it('says clearly when the Temporal port is taken by something else', async () => {
    const squatter = net.createServer((socket) => {
      // The probing client may reset the connection; an unhandled socket error would crash the test run.
      socket.on('error', () => undefined);
      socket.end('not temporal\n');
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const home = await mkdtemp(path.join(os.tmpdir(), 'arena-home-'));
      const { code, stderr } = await runCli(['dev', 'up'], {
        ARENA_HOME: home,
        DATABASE_URL: inject('stack').databaseUrl,
        ARENA_TEMPORAL_PORT: String(port),
        ARENA_TEMPORAL_UI_PORT: String(port + 1),
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} is in use by something that is not a Temporal server`);
      expect(stderr).toMatch(/hint: .*ARENA_TEMPORAL_PORT/);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      squatter.close();
    }
  });

  it('says clearly when the database is unreachable', async () => {
    const { code, stderr } = await runCli(['dev', 'up'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/arena',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
    expect(stderr).toMatch(/hint: .*DATABASE_URL/);
  });

  it('rejects a malformed variable naming it and its value', async () => {
    const { code, stderr } = await runCli(['dev', 'up'], { TEMPORAL_ADDRESS: 'not a host' });
    expect(code).toBe(1);
    expect(stderr).toContain('TEMPORAL_ADDRESS="not a host"');
  });
});
