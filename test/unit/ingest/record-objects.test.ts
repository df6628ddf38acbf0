import { describe, expect, it } from 'vitest';
import { parseFeedback, parsePrediction } from '../../../src/ingest/records.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const base = { requestId: 'r-1', model: 'm', version: '1.0.0', prediction: 2.5, at: '2026-11-30T12:00:00Z' };

describe('parsing record objects however they were built', () => {
  it('parses a record built by spreading and adding a key exactly as its literal', () => {
    // Such objects are validated through a copy (records.ts, ownCopy): the copy must change nothing.
    const spread = { ...base, segment: 'PHX' };
    const literal = JSON.parse(JSON.stringify(spread)) as unknown;
    expect(parsePrediction(spread, 0, NOW)).toEqual(parsePrediction(literal, 0, NOW));
    expect(parsePrediction(spread, 0, NOW)).toMatchObject({ segment: 'PHX', requestId: 'r-1' });
    expect(parseFeedback({ ...{ model: 'm', requestId: 'r-1' }, actual: 3 }, 0, NOW)).toMatchObject({
      actual: 3,
    });
  });

  it('still refuses an own __proto__ key (as JSON.parse makes it) and unknown keys, naming them', () => {
    const proto = JSON.parse(
      `{"requestId":"r","model":"m","version":"1.0.0","prediction":1,"__proto__":{"x":1}}`,
    );
    expect(parsePrediction(proto, 3, NOW)).toMatchObject({
      index: 3,
      reason: expect.stringContaining('__proto__'),
    });
    expect(parsePrediction({ ...base, segmnet: 'PHX' }, 4, NOW)).toMatchObject({
      index: 4,
      reason: expect.stringContaining('segmnet'),
    });
    expect(parseFeedback({ model: 'm', requestId: 'r', actual: 1, extra: 1 }, 5, NOW)).toMatchObject({
      index: 5,
      reason: expect.stringContaining('extra'),
    });
  });
});
