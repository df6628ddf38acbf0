import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import getPort from 'get-port';
import type { Registry } from 'prom-client';
import { loadEnv } from '../../src/config/env.js';
import { watchChild } from './child-output.js';

const run = promisify(execFile);

/**
 * A Prometheus server binary for metric-source tests (DESIGN.md §2): PROMETHEUS_PATH, else `prometheus` on
 * PATH (Debian's package, `apt-get install prometheus`), else Debian's package unpacked into the user cache:
 * `apt-get download` fetches the .deb without installing anything (no root, no service) and `dpkg-deb -x`
 * unpacks it. Its Go binary runs on its own. The cache is shared by every clone, like the Temporal CLI.
 */
export async function prometheusBinary(): Promise<string> {
  if (process.env.PROMETHEUS_PATH) return process.env.PROMETHEUS_PATH;
  const onPath = await run('sh', ['-c', 'command -v prometheus']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (onPath) return onPath;
  const dir = path.join(loadEnv().cacheDir, 'prometheus-debian');
  const cached = path.join(dir, 'usr', 'bin', 'prometheus');
  if (existsSync(cached)) return cached;
  const work = await mkdtemp(path.join(os.tmpdir(), 'arena-prometheus-'));
  try {
    await run('apt-get', ['download', 'prometheus'], { cwd: work, timeout: 300_000 });
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download prometheus left no .deb');
    const unpacked = path.join(work, 'root');
    await run('dpkg-deb', ['-x', path.join(work, deb), unpacked]);
    await mkdir(path.dirname(dir), { recursive: true });
    // Unpacked beside, then renamed: a concurrent or interrupted run never sees half a tree.
    await rename(unpacked, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!existsSync(cached)) throw err;
    });
    return cached;
  } catch (err) {
    throw new Error(
      `No Prometheus server for the metric-source tests: set PROMETHEUS_PATH, or install Debian's package ` +
        `(apt-get install prometheus); fetching it with apt-get download failed: ${(err as Error).message}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface TestPrometheus {
  readonly url: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its data. */
  stop(): Promise<void>;
  /** Stops the server but keeps its data, as an outage would: `restart()` brings it back on the same port. */
  interrupt(): Promise<void>;
  restart(): Promise<void>;
}

/** A Prometheus of the test's own: a temporary TSDB, a free port, scraping `targets` every `scrapeSeconds`. */
export async function startPrometheus(targets: string[], scrapeSeconds = 1): Promise<TestPrometheus> {
  const binary = await prometheusBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'arena-prom-'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      `  scrape_interval: ${scrapeSeconds}s`,
      `  evaluation_interval: ${scrapeSeconds}s`,
      'scrape_configs:',
      '  - job_name: arena-test',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await getPort();
  const url = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const child = spawn(
      binary,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const watched = watchChild(child, 20_000);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`Prometheus (${binary}) did not become ready: ${watched.output()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { child, watched };
  };
  let running: Awaited<ReturnType<typeof launch>> | null = await launch();
  const halt = async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      const timer = setTimeout(() => running?.child.kill('SIGKILL'), 5_000);
      await running.watched.exited;
      clearTimeout(timer);
    }
    running = null;
  };
  return {
    url,
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    interrupt: halt,
    async restart() {
      await halt();
      running = await launch();
    },
  };
}

/**
 * A serving process's metrics as Prometheus sees them: `registry` (prom-client) served on a free port and a
 * Prometheus of the caller's own scraping it; stop() ends both.
 */
export async function startPrometheusScraping(
  registry: Registry,
  scrapeSeconds = 1,
): Promise<TestPrometheus> {
  const exporter = createServer((_req, res) => {
    void registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const prometheus = await startPrometheus(
    [`127.0.0.1:${(exporter.address() as AddressInfo).port}`],
    scrapeSeconds,
  ).catch((err: unknown) => {
    exporter.close();
    throw err;
  });
  return {
    ...prometheus,
    async stop() {
      await prometheus.stop();
      exporter.close();
    },
  };
}
