import { describe, expect, it } from 'vitest';
import { bucket } from '../../../src/routing/bucket.js';
import { decide, type RoutingEntry } from '../../../src/routing/table.js';
import { RegistryError } from '../../../src/errors.js';

const base: RoutingEntry = {
  tenantId: 'default',
  model: 'demand',
  champion: '1.0.0',
  challenger: '1.1.0',
  mode: 'off',
  weightBp: 0,
  shadow: [],
  segmentOverrides: [],
  salt: 'pepper',
  generation: 7,
};

describe('decide', () => {
  it('serves the champion in mode off and reports bucket and generation', () => {
    const d = decide(base, 'req-1');
    expect(d).toEqual({
      serve: '1.0.0',
      shadow: [],
      bucket: bucket('demand', 'pepper', 'req-1'),
      generation: 7,
      via: 'champion',
    });
  });

  it('in canary mode serves the challenger exactly when bucket < weightBp', () => {
    const entry = { ...base, mode: 'canary' as const, weightBp: 2500 };
    let challenger = 0;
    for (let i = 0; i < 4000; i++) {
      const d = decide(entry, `r${i}`);
      expect(d.serve).toBe(d.bucket < 2500 ? '1.1.0' : '1.0.0');
      if (d.serve === '1.1.0') challenger++;
    }
    expect(challenger).toBeGreaterThan(0);
  });

  it('hashes the unit, not the request, when a unit is given (all of a user’s requests go one way)', () => {
    const entry = { ...base, mode: 'canary' as const, weightBp: 5000 };
    const served = new Set(
      Array.from({ length: 50 }, (_, i) => decide(entry, `req-${i}`, { unit: 'user-42' }).serve),
    );
    expect(served.size).toBe(1);
    expect(decide(entry, 'x', { unit: 'user-42' }).bucket).toBe(bucket('demand', 'pepper', 'user-42'));
  });

  it('in shadow mode serves the champion and returns the challenger as shadow', () => {
    const d = decide({ ...base, mode: 'shadow', shadow: ['1.2.0', '1.1.0'] }, 'req-1');
    expect(d.serve).toBe('1.0.0');
    expect(d.shadow).toEqual(['1.1.0', '1.2.0']);
  });

  it('lets segment overrides win over weights', () => {
    const entry: RoutingEntry = {
      ...base,
      mode: 'canary',
      weightBp: 10000,
      segmentOverrides: [{ key: 'store', value: '42', version: '0.9.0' }],
    };
    expect(decide(entry, 'r', { segments: { store: '42' } })).toMatchObject({
      serve: '0.9.0',
      via: 'segment',
    });
    expect(decide(entry, 'r', { segments: { store: '7' } })).toMatchObject({
      serve: '1.1.0',
      via: 'challenger',
    });
  });

  it('refuses to route a model without a champion, with a typed error', () => {
    expect(() => decide({ ...base, champion: null }, 'r')).toThrow(RegistryError);
    expect(() => decide({ ...base, champion: null }, 'r')).toThrow(/no champion/);
  });
});
