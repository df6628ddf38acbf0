import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { changeRouting } from '../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'python-client-token-0123456789';

/**
 * The Python client's own tests (clients/python/tests, `python3 -m unittest`) against a real gateway and
 * Postgres, so `npm test` runs them. A small control endpoint lets them stop and start the gateway on the
 * same address, to check that routing keeps working from the cache and that the recorder retries.
 */
describe('the Python client (standard library only) against a real gateway', () => {
  let db: TestDatabase;
  let app: FastifyInstance | undefined;
  let port = 0;
  let control: Server;
  let controlUrl: string;
  const tokens = new TokenStore([
    { token: TOKEN, name: 'python-service', tenant: 'default', roles: ['ingest', 'registrar', 'operator'] },
  ]);

  const start = async (): Promise<void> => {
    app = await buildGateway({ databaseUrl: db.url, tokens, people: { knex: db.knex } });
    const address = await app.listen({ port, host: '127.0.0.1' });
    port = Number(new URL(address).port);
  };
  const stop = async (): Promise<void> => {
    await app?.close();
    app = undefined;
  };

  beforeAll(async () => {
    db = await createTestDatabase('python_client');
    for (const version of ['1.0.0', '1.1.0', '1.2.0'])
      await registerVersion(db.knex, { model: 'py-demand', version, actor: 'setup' });
    await setChampion(db.knex, { model: 'py-demand', version: '1.0.0', actor: 'setup' });
    // A canary at 30 % and an extra shadow version: every branch of the decision has traffic to compare.
    await changeRouting(db.knex, {
      model: 'py-demand',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 3000, shadow: ['1.2.0'] },
      actor: 'setup',
    });
    await start();
    control = createServer((req, res) => {
      const action = req.method === 'POST' ? req.url : undefined;
      const done = (p: Promise<void>) =>
        p.then(
          () => res.writeHead(200).end('ok'),
          (err: Error) => res.writeHead(500).end(err.message),
        );
      if (action === '/gateway/stop') void done(stop());
      else if (action === '/gateway/start') void done(start());
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    control?.close();
    await stop();
    await db?.drop();
  });

  it('passes python3 -m unittest with every gateway test run (none skipped)', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'python3',
        ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-t', 'clients/python', '-v'],
        {
          cwd: root,
          timeout: 300_000,
          env: {
            ...process.env,
            ARENA_TEST_URL: `http://127.0.0.1:${port}`,
            ARENA_TEST_TOKEN: TOKEN,
            ARENA_TEST_MODEL: 'py-demand',
            ARENA_TEST_CONTROL_URL: controlUrl,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
      );
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out, r.out).toMatch(/\nOK\n?$/); // "OK (skipped=N)" would mean a gateway test did not run
    expect(r.out).toMatch(/Ran (\d{2,}) tests/);
  }, 300_000);
});
