import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadEnv } from '../../src/config/env.js';

/**
 * A browser for the report tests, driven by playwright-core (which downloads none of its own):
 *
 * 1. `CHROMIUM_PATH`, or the system Chromium at /usr/bin/chromium when there is one;
 * 2. otherwise the Chromium that `npm ci` itself installed: the dev dependency @sparticuz/chromium ships a
 *    Brotli-compressed build inside the registry package, unpacked once per user into the cache
 *    (`~/.cache/arena/chromium-<version>`, a few seconds) and reused by every run and every clone.
 *
 * With neither, the tests fail with the one command that fixes it; they are never skipped.
 */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface ResolvedBrowser {
  executablePath: string;
  args: string[];
  source: string;
}

/** Finds the browser, unpacking the bundled one into the user cache the first time. */
export async function resolveBrowser(): Promise<ResolvedBrowser> {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!existsSync(explicit))
      throw new Error(`CHROMIUM_PATH=${explicit}: no such file. Unset it to use the bundled Chromium.`);
    return { executablePath: explicit, args: ['--no-sandbox'], source: 'CHROMIUM_PATH' };
  }
  // CI and sessions run as root, where Chromium's sandbox cannot start.
  if (existsSync(SYSTEM_CHROMIUM))
    return { executablePath: SYSTEM_CHROMIUM, args: ['--no-sandbox'], source: 'system Chromium' };

  let bundled: typeof import('@sparticuz/chromium').default;
  try {
    bundled = (await import('@sparticuz/chromium')).default;
  } catch {
    throw new Error(
      'No browser for the report tests: no /usr/bin/chromium, and the bundled one (@sparticuz/chromium, a dev dependency) is not installed. Run `npm ci` (without --omit=dev), or set CHROMIUM_PATH.',
    );
  }
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  const { version } = JSON.parse(
    readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'),
  ) as { version: string };
  const dir = path.join(loadEnv().cacheDir, `chromium-${version}`);
  const executable = path.join(dir, 'chromium');
  if (!existsSync(executable)) {
    // The package unpacks into os.tmpdir(); point that at a private directory and move it into place in one
    // rename, so two runs unpacking at once never see a half-written binary.
    const staging = `${dir}.staging-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    try {
      await bundled.executablePath();
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    await rename(staging, dir).catch(async (err: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(executable)) throw err;
    });
  }
  // Its flags are tuned for AWS Lambda; --single-process there makes the browser die when a test closes
  // one page and opens the next, so it is left out (the rest, --no-sandbox among them, is what root needs).
  const args = bundled.args.filter((a) => a !== '--single-process');
  return { executablePath: executable, args, source: `@sparticuz/chromium ${version}` };
}

export async function launchChromium(): Promise<Browser> {
  const browser = await resolveBrowser();
  return chromium.launch({ executablePath: browser.executablePath, args: browser.args });
}
