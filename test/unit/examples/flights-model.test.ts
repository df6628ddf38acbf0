import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlightDataError,
  localDay,
  readFlights,
  type FlightBatch,
} from '../../../examples/flights-model/data.js';
import {
  featureVector,
  isDelayed,
  LABEL_KNOWN_AFTER_MS,
  learnAirportRates,
  RecentDelays,
} from '../../../examples/flights-model/features.js';
import { classificationMetrics } from '../../../examples/flights-model/metrics.js';
import { firstFlights, writeFlights } from '../../support/flights.js';
import { flightsModelArtifactSchema, trainFlightsModel } from '../../../examples/flights-model/model.js';

const run = promisify(execFile);

describe('the flights example (vega-datasets flights-3m.parquet)', () => {
  let dir: string;
  let week: FlightBatch;
  let slice: string;
  const window = {
    trainFrom: localDay('2001-01-01'),
    trainTo: localDay('2001-01-08'),
    holdoutFrom: localDay('2001-01-08'),
    holdoutTo: localDay('2001-01-09'),
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'arena-flights-'));
    week = await firstFlights('2001-01-09');
    slice = path.join(dir, 'slice.parquet');
    writeFlights(slice, week);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the real file one row group at a time: 3M flights of January to June 2001, a fifth delayed', async () => {
    let n = 0;
    let delayed = 0;
    let batches = 0;
    let last = -Infinity;
    let outOfOrder = 0;
    let largest = 0;
    for await (const b of readFlights()) {
      batches++;
      largest = Math.max(largest, b.time.length);
      for (let i = 0; i < b.time.length; i++) {
        if (b.time[i]! < last) outOfOrder++;
        last = b.time[i]!;
        if (isDelayed(b.delay[i]!)) delayed++;
      }
      n += b.time.length;
    }
    expect(n).toBe(3_000_000);
    // One row group (about 273,000 flights) at a time, never the file at once; in departure order.
    expect(largest).toBeLessThan(280_000);
    expect(outOfOrder).toBe(0);
    expect(batches).toBe(11);
    expect(delayed / n).toBeCloseTo(0.1997, 3);
  }, 60_000);

  it('refuses a bad row naming the row, the column and the value', async () => {
    const bad = { ...week, origin: [...week.origin] };
    bad.origin[3] = 'L A';
    const file = path.join(dir, 'bad.parquet');
    writeFlights(file, bad);
    const reading = async () => {
      for await (const _ of readFlights({ path: file }));
    };
    await expect(reading()).rejects.toThrow(FlightDataError);
    await expect(reading()).rejects.toThrow(/row 3, origin = "L A": not an airport code/);
  });

  it('reads only labels known before a departure for the recent-delay feature (no leakage)', () => {
    const rates = learnAirportRates([week]);
    const features = (b: FlightBatch, i: number) => {
      const recent = new RecentDelays();
      for (let k = 0; k < i; k++) recent.observe(b.origin[k]!, b.time[k]!, isDelayed(b.delay[k]!));
      return featureVector('schedule+airports', b, i, rates, recent);
    };
    const i = week.time.findIndex((t) => t >= localDay('2001-01-03') + 17 * 3_600_000);
    const before = features(week, i);
    // Every flight whose label is not yet known at flight i's departure (scheduled after t − 15 min) and
    // every later one gets the opposite label: flight i's features do not move.
    const flipped = { ...week, delay: Float64Array.from(week.delay) };
    for (let k = 0; k < flipped.time.length; k++)
      if (flipped.time[k]! > week.time[i]! - LABEL_KNOWN_AFTER_MS)
        flipped.delay[k] = isDelayed(week.delay[k]!) ? 0 : 60;
    expect(features(flipped, i)).toEqual(before);
    // …while a flight whose label was known does move it.
    const known = { ...week, delay: Float64Array.from(week.delay) };
    for (let k = 0; k < i; k++) if (known.origin[k] === week.origin[i]) known.delay[k] = 120;
    expect(features(known, i).at(-1)).toBeGreaterThan(before.at(-1)!);
  });

  it('learns airport rates and coefficients from the training window only: holdout labels never reach the model', async () => {
    const flippedFile = path.join(dir, 'holdout-flipped.parquet');
    const flipped = { ...week, delay: Float64Array.from(week.delay) };
    for (let k = 0; k < flipped.time.length; k++)
      if (flipped.time[k]! >= window.holdoutFrom) flipped.delay[k] = isDelayed(week.delay[k]!) ? 0 : 60;
    writeFlights(flippedFile, flipped);
    const train = (file: string) =>
      trainFlightsModel({
        model: 'flights',
        version: '1.1.0',
        featureSet: 'schedule+airports',
        ...window,
        path: file,
      });
    const a = await train(slice);
    const b = await train(flippedFile);
    const { holdout: ha, ...modelA } = a;
    const { holdout: hb, ...modelB } = b;
    expect(modelB).toEqual(modelA);
    expect(hb.accuracy).not.toBe(ha.accuracy);
    expect(ha.n).toBe(hb.n);
  }, 60_000);

  it('trains reproducibly, and the artifact passes its own schema', async () => {
    const train = () =>
      trainFlightsModel({
        model: 'flights',
        version: '1.0.0',
        featureSet: 'schedule',
        ...window,
        path: slice,
      });
    const a = await train();
    expect(await train()).toEqual(a);
    expect(flightsModelArtifactSchema.parse(a)).toEqual(a);
    expect(a.trainWindow).toEqual({
      from: '2001-01-01T00:00:00',
      to: '2001-01-08T00:00:00',
      rows: expect.any(Number),
    });
    expect(a.airportRates).toBeUndefined();
  }, 60_000);

  it('the challenger beats the champion on a held-out month (June), trained walking forward on March and April', async () => {
    const months = {
      trainFrom: localDay('2001-03-01'),
      trainTo: localDay('2001-05-01'),
      holdoutFrom: localDay('2001-06-01'),
      holdoutTo: localDay('2001-07-01'),
    };
    const champion = await trainFlightsModel({
      model: 'flights',
      version: '1.0.0',
      featureSet: 'schedule',
      ...months,
      sampleEvery: 2,
    });
    const challenger = await trainFlightsModel({
      model: 'flights',
      version: '1.1.0',
      featureSet: 'schedule+airports',
      ...months,
      sampleEvery: 2,
    });
    expect(champion.holdout.n).toBe(502_222);
    expect(challenger.holdout.accuracy).toBeGreaterThan(champion.holdout.accuracy);
    expect(challenger.holdout.logLoss).toBeLessThan(champion.holdout.logLoss);
    expect(challenger.holdout.f1).toBeGreaterThan(champion.holdout.f1);
    // Calibrated: in every well-filled bin the observed rate is within 0.1 of the predicted one.
    for (const bin of challenger.holdout.calibration.filter((c) => c.n > 1000))
      expect(Math.abs(bin.observed - bin.predicted)).toBeLessThan(0.1);
  }, 120_000);

  it('classification metrics: accuracy, precision, recall, F1 and log loss as scikit-learn defines them', () => {
    const m = classificationMetrics(
      [
        { p: 0.9, y: 1, segment: 'A' },
        { p: 0.6, y: 0, segment: 'A' },
        { p: 0.2, y: 1, segment: 'B' },
        { p: 0.1, y: 0, segment: 'B' },
      ],
      { from: 'x', to: 'y' },
    );
    // tp 1, fp 1, fn 1, tn 1.
    expect(m).toMatchObject({ n: 4, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, baseRate: 0.5 });
    const logLoss = -(Math.log(0.9) + Math.log(0.4) + Math.log(0.2) + Math.log(0.9)) / 4;
    expect(m.logLoss).toBeCloseTo(logLoss, 6);
    expect(m.segments.map((s) => [s.segment, s.accuracy])).toEqual([
      ['A', 0.5],
      ['B', 0.5],
    ]);
    expect(m.calibration[9]).toMatchObject({ n: 1, predicted: 0.9, observed: 1 });
  });

  it('train.ts runs as a child process: JSON-lines progress, the artifact, and errors that name the flag', async () => {
    const out = path.join(dir, 'model.json');
    const args = [
      'tsx',
      'examples/flights-model/train.ts',
      '--model',
      'flights',
      '--version',
      '1.1.0',
      '--features',
      'schedule+airports',
      '--train-from',
      '2001-01-01',
      '--train-to',
      '2001-01-08',
      '--holdout-from',
      '2001-01-08',
      '--holdout-to',
      '2001-01-09',
      '--data',
      slice,
      '--out',
      out,
    ];
    const { stdout } = await run('npx', args);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; step?: string });
    expect(events.map((e) => e.step ?? e.event)).toEqual(
      expect.arrayContaining(['load', 'airports', 'features', 'fit', 'evaluate', 'write', 'done']),
    );
    const done = events.at(-1) as unknown as { digest: string; holdout: { accuracy: number; n: number } };
    const text = await readFile(out, 'utf8');
    expect(flightsModelArtifactSchema.parse(JSON.parse(text)).holdout.accuracy).toBe(done.holdout.accuracy);
    // predict, evaluate and backtest read the artifact back and score the same flights walking forward.
    const champion = path.join(dir, 'champion.json');
    await run(
      'npx',
      [...args.slice(0, -2), '--out', champion].map((a) =>
        a === '1.1.0' ? '1.0.0' : a === 'schedule+airports' ? 'schedule' : a,
      ),
    );
    const tsx = (script: string, ...rest: string[]) =>
      run('npx', ['tsx', `examples/flights-model/${script}.ts`, ...rest], { maxBuffer: 64 * 1024 * 1024 });
    const evaluated = JSON.parse(
      (
        await tsx(
          'evaluate',
          '--candidate',
          out,
          '--champion',
          champion,
          '--from',
          '2001-01-08',
          '--to',
          '2001-01-09',
          '--data',
          slice,
        )
      ).stdout,
    ) as { candidate: { n: number; accuracy: number }; champion: { n: number }; forecastsSha256: string };
    expect(evaluated.candidate).toMatchObject({ n: done.holdout.n, accuracy: done.holdout.accuracy });
    expect(evaluated.forecastsSha256).toMatch(/^[0-9a-f]{64}$/);
    const lines = (
      await tsx('backtest', '--artifact', out, '--from', '2001-01-08', '--to', '2001-01-09', '--data', slice)
    ).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: string; origin: string; probability: number });
    expect(lines).toHaveLength(done.holdout.n);
    const first = lines[0]!;
    const predicted = (
      await tsx(
        'predict',
        '--artifact',
        out,
        '--digest',
        done.digest,
        '--origin',
        first.origin,
        '--at',
        first.at,
        '--data',
        slice,
      )
    ).stdout;
    expect(predicted).toContain(`"probability":${first.probability}`);
    await expect(
      tsx(
        'predict',
        '--artifact',
        out,
        '--digest',
        '0'.repeat(64),
        '--origin',
        first.origin,
        '--at',
        first.at,
        '--data',
        slice,
      ),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/does not match the expected/),
    });
    await expect(
      tsx('backtest', '--artifact', out, '--from', '2001-01-32', '--to', '2001-01-09'),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/--from must be a real calendar date YYYY-MM-DD \(got "2001-01-32"\)/),
    });
    const bad = [...args];
    bad[bad.indexOf('2001-01-01')] = '2001-02-30';
    await expect(run('npx', bad)).rejects.toMatchObject({
      stderr: expect.stringMatching(/--train-from must be a real calendar date \(got "2001-02-30"\)/),
    });
  }, 60_000);
});
