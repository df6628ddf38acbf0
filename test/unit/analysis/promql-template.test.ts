import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  promqlDuration,
  promqlStringContent,
  renderPromql,
  unknownPlaceholders,
} from '../../../src/analysis/promql-template.js';

const values = { model: 'fraud', version: '1.1.0', arm: 'challenger', interval: '60s', window: '3600s' };

/** Reads a double-quoted PromQL string's content back (Go escapes), or null where it would end early. */
function unquote(content: string): string | null {
  let out = '';
  for (let i = 0; i < content.length; i++) {
    const c = content[i]!;
    if (c === '"' || c === '\n') return null;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = content[++i];
    const map: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t' };
    if (next === undefined || !(next in map)) return null;
    out += map[next];
  }
  return out;
}

describe('PromQL templates', () => {
  it('fills the five placeholders, with or without spaces inside the braces', () => {
    expect(
      renderPromql(
        'sum(increase(errors_total{model="{{model}}",version="{{ version }}",arm="{{arm}}"}[{{window}}])) / {{interval}}',
        values,
      ),
    ).toBe('sum(increase(errors_total{model="fraud",version="1.1.0",arm="challenger"}[3600s])) / 60s');
  });

  it('names every placeholder that does not exist, and refuses to render', () => {
    expect(unknownPlaceholders('x{{modle}} {{model}} {{ stage }} {{modle}}')).toEqual(['modle', 'stage']);
    expect(() => renderPromql('up{v="{{ver}}"}', values)).toThrow(
      'unknown placeholder {{ver}}; use {{model}}, {{version}}, {{arm}}, {{interval}}, {{window}}',
    );
  });

  it('never lets a value end the quoted string it is put in', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (v) => {
        expect(unquote(promqlStringContent(v))).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes windows and intervals as whole seconds, at least one', () => {
    expect(promqlDuration(90_000)).toBe('90s');
    expect(promqlDuration(200)).toBe('1s');
    expect(promqlDuration(1_499)).toBe('1s');
  });
});
