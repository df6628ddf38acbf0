import { spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Progress } from './progress.js';

/** A Go command built from the module proxy (the Temporal CLI, the SeaweedFS server of the S3 tests). */
export interface GoCommand {
  /** What people read: "the Temporal CLI v1.5.1". */
  label: string;
  /** The command's package, e.g. github.com/temporalio/cli/cmd/temporal. */
  pkg: string;
  /** The module version `go get` asks for: a tag or a pseudo-version. */
  version: string;
  /** The binary to write. */
  target: string;
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `searchPath` (a PATH-style list). */
export async function whichOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The `go` on PATH, or in Go's usual install directory. */
export function findGo(searchPath?: string): Promise<string | undefined> {
  return whichOnPath('go', searchPath ?? `${process.env.PATH ?? ''}:/usr/local/go/bin`);
}

/**
 * Builds a Go command in a throw-away module: `go get` of the command's package at the version (what
 * `go install pkg@version` would resolve; unlike it, this also takes a module whose go.mod has replace
 * directives, which a dependency's build ignores), `go list -deps` for the packages not in Go's build cache, then `go build -v`, which
 * prints each package as it compiles, so progress is "k of N packages", not the last line Go printed.
 * Returns undefined with the reason pushed onto `skipped` when a step fails.
 */
export async function buildGoCommand(
  go: string,
  cmd: GoCommand,
  progress: Progress,
  skipped: string[],
): Promise<string | undefined> {
  await mkdir(path.dirname(cmd.target), { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'arena-go-build-'));
  try {
    await writeFile(path.join(work, 'go.mod'), 'module arenagobuild\n\ngo 1.23\n');
    await writeFile(
      path.join(work, 'tools.go'),
      `//go:build tools\n\npackage tools\n\nimport _ "${cmd.pkg}"\n`,
    );

    progress.start(`Downloading the Go modules of ${cmd.label}`);
    let modules = 0;
    const got = await runGo(go, ['get', `${cmd.pkg}@${cmd.version}`], { cwd: work }, (line) => {
      const m = /^go: downloading (\S+)/.exec(line);
      if (m) progress.update(`${++modules} modules downloaded (${m[1]})`);
    });
    if (!got.ok) {
      skipped.push(`go get ${cmd.pkg}@${cmd.version} failed: ${got.tail}`);
      return undefined;
    }
    progress.succeed(`Downloaded the Go modules of ${cmd.label} (${modules} fetched, the rest cached)`);

    progress.start('Working out which packages need compiling');
    const stale: string[] = [];
    const listed = await runGo(
      go,
      ['list', '-deps', '-f', '{{if .Stale}}{{.ImportPath}}{{end}}', cmd.pkg],
      { cwd: work },
      (line) => stale.push(line.trim()),
    );
    const total = listed.ok ? stale.length : undefined;
    progress.succeed(
      total === undefined ? 'Could not list the packages; compiling' : `${total} packages to compile`,
    );

    progress.start(`Compiling ${cmd.label}`);
    let compiled = 0;
    // Into a temporary name first: a build cut short never leaves a half-written binary at the cached path.
    const partial = `${cmd.target}.partial`;
    const built = await runGo(go, ['build', '-v', '-o', partial, cmd.pkg], { cwd: work }, (line) => {
      // -v prints one import path per compiled package; anything else (errors) goes to the tail.
      if (/^[\w.\-/]+$/.test(line.trim())) {
        compiled += 1;
        progress.update(
          `${compiled}${total !== undefined ? ` of ${total}` : ''} packages compiled (${line.trim()})`,
        );
      }
    });
    if (built.ok && (await isExecutable(partial))) {
      await rename(partial, cmd.target);
      progress.succeed(`Built ${cmd.label} into ${cmd.target} (${compiled} packages compiled)`);
      return cmd.target;
    }
    skipped.push(`go build failed: ${built.tail}`);
    return undefined;
  } finally {
    progress.stop();
    await rm(work, { recursive: true, force: true });
  }
}

interface GoResult {
  ok: boolean;
  tail: string;
}

function runGo(
  go: string,
  args: string[],
  options: { cwd: string },
  onLine: (line: string) => void,
): Promise<GoResult> {
  return new Promise((resolve) => {
    const child = spawn(go, args, {
      cwd: options.cwd,
      env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolve({ ok: false, tail: err.message }));
    child.on('close', (code) => {
      if (partial.trim()) {
        lines.push(partial);
        onLine(partial);
      }
      resolve({ ok: code === 0, tail: lines.slice(-8).join('\n') });
    });
  });
}
