import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bucket, bucketOfKey } from '../../../src/routing/bucket.js';

interface Vector {
  model: string;
  salt: string;
  unit: string;
  utf8_bytes: number;
  bucket: number;
}
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/routing-buckets.json', import.meta.url), 'utf8'),
) as {
  cases: Vector[];
};

function reference(key: string): number {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % 10000n);
}

describe('bucket (DESIGN.md §4)', () => {
  it('matches vectors computed independently with Python hashlib', () => {
    expect(fixture.cases.length).toBeGreaterThan(10);
    for (const v of fixture.cases) {
      expect(bucket(v.model, v.salt, v.unit), `${v.model}:${v.salt}:${v.unit} (${v.utf8_bytes} bytes)`).toBe(
        v.bucket,
      );
    }
  });

  it('covers one- and multi-block messages around the padding boundaries', () => {
    const sizes = new Set(fixture.cases.map((v) => v.utf8_bytes));
    for (const boundary of [55, 56, 64, 128]) expect(sizes).toContain(boundary);
  });

  it('agrees with node:crypto on random ASCII and non-ASCII keys of every length up to 300 bytes', () => {
    for (let len = 0; len <= 300; len++) {
      const ascii = randomBytes(len).toString('base64').slice(0, len);
      expect(bucketOfKey(ascii), `ascii length ${len}`).toBe(reference(ascii));
      const unicode = `é${'日本'.repeat(len % 40)}🚀${ascii.slice(0, len % 17)}`;
      expect(bucketOfKey(unicode), unicode).toBe(reference(unicode));
    }
  });

  it('stays in [0, 10000)', () => {
    for (let i = 0; i < 2000; i++) {
      const b = bucket('m', 's', `u${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(10000);
      expect(Number.isInteger(b)).toBe(true);
    }
  });
});
