/// <reference lib="dom" />
// page.evaluate callbacks run in the browser.
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { runCli } from '../support/cli.js';

interface DemoOutput {
  ok: boolean;
  results: Array<{
    scenario: string;
    state: string;
    rolloutId: string;
    webUi: string | null;
    report: string | null;
    mae: { champion: number; challenger: number };
    measured: { metric: string; champion: number; challenger: number } | null;
  }>;
}

const screenshots = process.env.UPDATE_SCREENSHOTS === '1';
const imagesDir = fileURLToPath(new URL('../../docs/images/', import.meta.url));

/** Opens a report with every non-file request refused, and measures what each chart drew. */
async function inspectReport(page: Page, path: string) {
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(`file://${path}`);
  await page.waitForFunction(
    () => (window as { __arenaChartsReady?: boolean }).__arenaChartsReady === true,
    null,
    {
      timeout: 15_000,
    },
  );
  const renderMs = Date.now() - started;
  const charts = await page.evaluate(() =>
    Array.from(document.querySelectorAll('canvas[data-chart]')).map((c) => {
      const canvas = c as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      let challengerInk = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! > 0) painted++;
        // The challenger's colour (#D55E00, Okabe–Ito vermillion): the data itself, not just axes and labels.
        if (
          data[i + 3]! > 200 &&
          Math.abs(data[i]! - 213) < 30 &&
          Math.abs(data[i + 1]! - 94) < 30 &&
          data[i + 2]! < 40
        )
          challengerInk++;
      }
      return { name: canvas.dataset.chart!, width: canvas.width, painted, challengerInk };
    }),
  );
  return { blocked, errors, charts, renderMs, text: await page.locator('body').innerText() };
}

describe('npm run demo (arena demo --fast) on the real example model', () => {
  let out: DemoOutput;
  beforeAll(async () => {
    const r = await runCli(['demo', '--fast', '--json'], {}, 300_000);
    expect(r.code, r.stderr).toBe(0);
    out = JSON.parse(r.stdout) as DemoOutput;
  }, 300_000);

  it('promotes the better forecaster and rolls back the faulty build, on measured errors', () => {
    expect(out.ok).toBe(true);
    expect(out.results.map((x) => [x.scenario, x.state])).toEqual([
      ['promote', 'promoted'],
      ['rollback', 'rolled_back'],
    ]);
    for (const x of out.results) {
      if (x.webUi) expect(x.webUi).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\//);
      // Real forecasts of 2015 (°C): the seasonal champion ≈ 3.11, the challenger with yesterday's weather ≈ 2.08.
      expect(x.mae.champion).toBeCloseTo(3.114, 2);
      expect(x.mae.challenger).toBeCloseTo(2.081, 2);
      expect(x.measured?.metric).toBe('abs_error');
      expect(x.measured!.challenger).toBeLessThan(x.measured!.champion);
    }
  });

  it('writes self-contained reports whose four charts Chromium draws with no network', async () => {
    const browser = await launchChromium();
    try {
      for (const x of out.results) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const seen = await inspectReport(page, x.report!);
        expect(seen.errors).toEqual([]);
        expect(seen.blocked).toEqual([]);
        expect(seen.charts.map((c) => c.name)).toEqual(['traffic', 'primary', 'guardrails', 'samples']);
        for (const c of seen.charts) {
          expect(c.painted, `${c.name} drew nothing`).toBeGreaterThan(0.02 * c.width * 200);
          expect(c.challengerInk, `${c.name} shows no challenger data`).toBeGreaterThan(50);
        }
        expect(seen.text).toContain('demo-approver');
        expect(seen.text).toMatch(x.scenario === 'promote' ? /Promoted/ : /Rolled back/);
        expect(seen.text).toContain(
          x.scenario === 'promote' ? 'transition → promoted' : 'transition → rolled_back',
        );
        console.log(
          `report ${x.scenario}: ${(await readFile(x.report!)).length} bytes, charts ready in ${seen.renderMs} ms`,
        );
        if (screenshots && x.scenario === 'promote') {
          await mkdir(imagesDir, { recursive: true });
          await page.screenshot({ path: join(imagesDir, 'report.png'), fullPage: true });
        }
        await page.close();
      }
      if (screenshots && out.results[0]?.webUi) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
        const { temporalUi } = inject('stack');
        await page.goto(
          `${temporalUi}/namespaces/default/workflows?query=${encodeURIComponent('ArenaModel STARTS_WITH "seattle-temp"')}`,
        );
        await page.waitForSelector('text=rolloutWorkflow', { timeout: 30_000 });
        await page.waitForTimeout(1000);
        await page.screenshot({ path: join(imagesDir, 'temporal-ui.png') });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('arena report writes the same page for any rollout, and names an unknown one clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arena-report-'));
    const id = out.results[0]!.rolloutId;
    const r = await runCli(['report', id, '--out', join(dir, 'r.html'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const written = JSON.parse(r.stdout) as { rolloutId: string; path: string; bytes: number };
    expect(written).toMatchObject({ rolloutId: id, path: join(dir, 'r.html') });
    const bytes = await readFile(written.path);
    expect(bytes.length).toBe(written.bytes);
    const html = bytes.toString('utf8');
    expect(html).toContain('data-chart="primary"');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // nothing fetched from elsewhere
    const missing = await runCli(['report', 'no-such-rollout']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No rollout no-such-rollout[\s\S]*arena rollout list/);
  });
});
