import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { ContractWatch, expectContractKept } from '../support/contract.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'package-exports-token-0123456789';

const run = (file: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 300_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/** What a Node service writes once it depends on Arena: only the package's exports, typed. */
const CONSUMER_TS = `
import { ArenaHttpClient, ArenaHttpError, type RoutingFetch } from 'arena/http-client';
import { createRouter, type Router } from 'arena/router';
import { createRecorder, type Recorder } from 'arena/recorder';

const client = new ArenaHttpClient({ baseUrl: process.env.GATEWAY!, token: process.env.TOKEN! });
const model = 'pkg-demand';
const registered = await client.registerVersion(model, { version: '1.0.0' });
await client.registerVersion(model, { version: '1.1.0' });
await client.setChampion(model, '1.0.0');
const first: RoutingFetch = await client.routing(model);
const second = await client.routing(model, first);
const outcome = await client.recordPredictions([
  { requestId: 'r1', model, version: '1.0.0', prediction: 3.5, latencyMs: 12 },
  { requestId: 'r2', model, version: '1.0.0', prediction: 3.5, latencyMs: -1 },
]);
let notFound = 0;
try {
  await client.model('no-such-model');
} catch (err) {
  if (err instanceof ArenaHttpError) notFound = err.status;
}
const router: Router = await createRouter({ databaseUrl: process.env.DATABASE_URL! });
const local = router.route(model, 'r1');
const remote = await client.route(model, 'r1');
await router.close();
const recorder: Recorder = createRecorder({ databaseUrl: process.env.DATABASE_URL! });
await recorder.close();
console.log(JSON.stringify({
  created: registered.created,
  etag: first.etag,
  generation: first.entry.generation,
  notModified: second.notModified,
  accepted: outcome.accepted,
  rejected: outcome.rejected.map((r) => r.field),
  notFound,
  same: local.serve === remote.serve && local.bucket === remote.bucket,
}));
`;

describe('the TypeScript package: router, recorder and HTTP client imported from the built package', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let dir: string;
  let contract: ContractWatch | undefined;
  afterAll(() => expectContractKept(contract));

  beforeAll(async () => {
    db = await createTestDatabase('package_exports');
    app = await buildGateway({
      databaseUrl: db.url,
      tokens: new TokenStore([
        { token: TOKEN, name: 'service', tenant: 'default', roles: ['ingest', 'registrar', 'operator'] },
      ]),
      people: { knex: db.knex },
    });
    contract = await ContractWatch.watch(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    dir = await mkdtemp(path.join(tmpdir(), 'arena-consumer-'));
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds with declarations; a scratch project type-checks against them and runs against a real gateway', async () => {
    const build = await run(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      root,
    );
    expect(build.code, build.stdout + build.stderr).toBe(0);

    // A scratch project outside the repository that depends on it (as `npm install ../arena` links it).
    await mkdir(path.join(dir, 'node_modules'), { recursive: true });
    await symlink(root, path.join(dir, 'node_modules', 'arena'), 'dir');
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
    await writeFile(path.join(dir, 'consumer.ts'), CONSUMER_TS);
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules/@types')],
          outDir: 'out',
        },
        files: ['consumer.ts'],
      }),
    );
    const typed = await run(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      dir,
    );
    expect(typed.code, typed.stdout + typed.stderr).toBe(0);

    // Deep imports are not part of the contract: only the exports map resolves.
    const deep = await run(
      process.execPath,
      ['--input-type=module', '-e', "await import('arena/dist/src/routing/bucket.js')"],
      dir,
    );
    expect(deep.code).not.toBe(0);
    expect(deep.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);

    const ran = await run(process.execPath, ['out/consumer.js'], dir, {
      GATEWAY: base,
      TOKEN,
      DATABASE_URL: db.url,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const out = JSON.parse(ran.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out).toMatchObject({
      created: true,
      notModified: true,
      accepted: 1,
      rejected: ['latencyMs'],
      notFound: 404,
      same: true,
    });
    expect(out.etag).toBe(`"${out.generation as number}"`);
  }, 300_000);
});
