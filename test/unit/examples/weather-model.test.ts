import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  canonicalRows,
  loadWeather,
  parseWeatherCsv,
  sliceDays,
} from '../../../examples/weather-model/data.js';
import { featureVector, monitoredFeatures } from '../../../examples/weather-model/features.js';
import {
  evaluate,
  forecast,
  trainWeatherModel,
  weatherModelArtifactSchema,
} from '../../../examples/weather-model/model.js';
import { loadArtifact } from '../../../examples/weather-model/predict.js';

const run = promisify(execFile);
const { days } = loadWeather();
const HOLDOUT = { holdoutFrom: '2015-01-01', holdoutTo: '2015-12-31' };
const champion = () =>
  trainWeatherModel(days, {
    model: 'w',
    version: '1.0.0',
    featureSet: 'seasonal',
    trainFrom: '2012-01-01',
    trainTo: '2013-12-31',
    ...HOLDOUT,
  });
const challenger = () =>
  trainWeatherModel(days, {
    model: 'w',
    version: '1.1.0',
    featureSet: 'seasonal+lags',
    trainFrom: '2012-01-01',
    trainTo: '2014-12-31',
    ...HOLDOUT,
  });

describe('the example weather forecaster', () => {
  it('reads the real data set: four years of Seattle weather', () => {
    expect(days).toHaveLength(1461);
    expect(days[0]).toEqual({
      date: '2012-01-01',
      precipitation: 0,
      tempMax: 12.8,
      tempMin: 5,
      wind: 4.7,
      weather: 'drizzle',
    });
    expect(days.at(-1)!.date).toBe('2015-12-31');
  });

  it('refuses bad rows naming the line, the column and the value', () => {
    const header = 'date,precipitation,temp_max,temp_min,wind,weather';
    expect(() =>
      parseWeatherCsv(`${header}\n2012-01-01,0,12.8,5,4.7,sun\n2012-01-02,-3,1,1,1,rain\n`, 'x.csv'),
    ).toThrow('x.csv:3: column precipitation="-3": must be ≥ 0');
    expect(() => parseWeatherCsv(`${header}\n2012-13-01,0,1,1,1,sun\n`, 'x.csv')).toThrow(
      /x\.csv:2: column date="2012-13-01"/,
    );
    expect(() => parseWeatherCsv(`${header}\n2012-01-01,0,abc,1,1,sun\n`, 'x.csv')).toThrow(
      /column temp_max="abc": must be a finite number/,
    );
    expect(() => parseWeatherCsv('a,b\n', 'x.csv')).toThrow(/x\.csv:1: header must be/);
    expect(() =>
      parseWeatherCsv(`${header}\n2012-01-01,0,1,1,1,sun\n2012-01-01,0,1,1,1,sun\n`, 'x.csv'),
    ).toThrow('x.csv:3: column date="2012-01-01": appears twice (also on line 2)');
    // Blank lines still count, so the number is the one an editor shows.
    expect(() =>
      parseWeatherCsv(`${header}\n\n2012-01-01,0,1,1,1,sun\n\n2012-01-02,0,1,x,1,sun\n`, 'x.csv'),
    ).toThrow('x.csv:5: column temp_min="x"');
    expect(() => parseWeatherCsv(`${header}\n2015-02-30,0,1,1,1,sun\n`, 'x.csv')).toThrow(
      'x.csv:2: column date="2015-02-30": must be a real calendar date',
    );
    expect(() => parseWeatherCsv(`${header}\n2012-01-01,0,1,1\n`, 'x.csv')).toThrow(
      /x\.csv:2: expected 6 columns .* got 4/,
    );
  });

  it('never reads the forecast day itself (no leakage)', () => {
    const a = challenger();
    const i = days.findIndex((d) => d.date === '2015-06-01');
    const before = forecast(a, days, i);
    const altered = days.map((d, k) =>
      k === i ? { ...d, tempMax: 99, tempMin: 80, precipitation: 50, wind: 20 } : d,
    );
    expect(forecast(a, altered, i)).toBe(before);
    expect(featureVector('seasonal+lags', days, 1)).toBeNull(); // two days of history needed
    expect(monitoredFeatures(days, i)).toEqual({
      temp_max_1: days[i - 1]!.tempMax,
      temp_min_1: days[i - 1]!.tempMin,
      precipitation_1: days[i - 1]!.precipitation,
      wind_1: days[i - 1]!.wind,
    });
  });

  it('trains reproducibly and records the SHA-256 of exactly the rows it learnt from', () => {
    const a = challenger();
    expect(JSON.stringify(challenger())).toBe(JSON.stringify(a));
    const rows = sliceDays(days, '2012-01-01', '2014-12-31');
    expect(a.trainingDataSha256).toBe(createHash('sha256').update(canonicalRows(rows)).digest('hex'));
    expect(weatherModelArtifactSchema.parse(a)).toEqual(a);
    expect(Object.keys(a.featureProfile).sort()).toEqual([
      'precipitation_1',
      'prediction',
      'temp_max_1',
      'temp_min_1',
      'wind_1',
    ]);
    expect(a.featureProfile.temp_max_1!.deciles).toHaveLength(9);
  });

  it('the challenger (yesterday’s weather, one more year) beats the seasonal champion on the unseen 2015', () => {
    const c = champion();
    const ch = challenger();
    expect(c.holdout.n).toBe(365);
    expect(ch.holdout.n).toBe(365);
    // Measured: 3.114 °C against 2.081 °C.
    expect(c.holdout.mae).toBeCloseTo(3.114, 2);
    expect(ch.holdout.mae).toBeCloseTo(2.081, 2);
    expect(ch.holdout.mae).toBeLessThan(0.8 * c.holdout.mae);
    expect(evaluate(ch, days, '2015-01-01', '2015-12-31')).toEqual(ch.holdout);
  });

  it('evaluate: MAE, RMSE, bias and MAPE (over days at least 1 °C from zero) of the walk-forward forecasts', () => {
    // A model that always says 2 °C: every error is known from the data alone.
    const constant = { ...champion(), intercept: 2, coefficients: [0, 0, 0, 0] };
    const window = sliceDays(days, '2012-01-01', '2012-01-31');
    const errors = window.map((d) => 2 - d.tempMax);
    const pct = window
      .filter((d) => Math.abs(d.tempMax) >= 1)
      .map((d) => Math.abs((2 - d.tempMax) / d.tempMax));
    expect(pct.length).toBeLessThan(window.length); // 2012-01-18 had a maximum of 0 °C: left out of MAPE
    // Plain loops on purpose: evaluate() uses simple-statistics, so the reference must not.
    let abs = 0;
    let sq = 0;
    let bias = 0;
    for (const e of errors) {
      abs += Math.abs(e);
      sq += e * e;
      bias += e;
    }
    const m = evaluate(constant, days, '2012-01-01', '2012-01-31');
    expect(m.n).toBe(31);
    expect(m.mae).toBeCloseTo(abs / 31, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(sq / 31), 12);
    expect(m.bias).toBeCloseTo(bias / 31, 12);
    let ape = 0;
    for (const x of pct) ape += x;
    expect(m.mape).toBeCloseTo(ape / pct.length, 12);
    expect(evaluate(constant, days, '2020-01-01', '2020-12-31')).toEqual({
      from: '2020-01-01',
      to: '2020-12-31',
      n: 0,
      mae: Number.NaN,
      rmse: Number.NaN,
      mape: Number.NaN,
      bias: Number.NaN,
    });
  });

  it('standardises each input by its training mean and population standard deviation', () => {
    const a = challenger();
    const rows = days
      .map((d, i) => (d.date <= '2014-12-31' ? featureVector('seasonal+lags', days, i) : null))
      .filter((x): x is Record<string, number> => x !== null);
    expect(rows).toHaveLength(a.trainWindow.rows);
    a.features.forEach((f, k) => {
      const xs = rows.map((r) => r[f]!);
      // Plain loops on purpose: training uses simple-statistics, so the reference must not.
      let total = 0;
      for (const x of xs) total += x;
      const mean = total / xs.length;
      let ss = 0;
      for (const x of xs) ss += (x - mean) ** 2;
      expect(a.means[k]).toBeCloseTo(mean, 12);
      expect(a.scales[k]).toBeCloseTo(Math.sqrt(ss / xs.length), 12);
    });
  });

  it('refuses a holdout that overlaps the training window, and too little data', () => {
    const trainUntil = (trainTo: string) => () =>
      trainWeatherModel(days, {
        model: 'w',
        version: '1',
        featureSet: 'seasonal',
        trainFrom: '2012-01-01',
        trainTo,
        ...HOLDOUT,
      });
    expect(trainUntil('2015-06-30')).toThrow(/overlaps training/);
    expect(trainUntil('2012-01-20')).toThrow(/has 20 usable days; at least 60/);
    expect(trainUntil('2014-02-30')).toThrow('trainTo="2014-02-30": must be a real date');
  });

  it('loadArtifact validates the artifact and refuses one whose bytes do not match the digest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arena-artifact-'));
    const path = join(dir, 'm.json');
    const text = `${JSON.stringify(challenger())}\n`;
    await writeFile(path, text);
    const digest = createHash('sha256').update(text).digest('hex');
    expect(await loadArtifact(path, `sha256:${digest}`)).toEqual(JSON.parse(text));
    await writeFile(path, text.replace('"version":"1.1.0"', '"version":"6.6.6"'));
    await expect(loadArtifact(path, digest)).rejects.toThrow(
      `does not match the expected ${digest}; refusing to serve it`,
    );
    await writeFile(path, JSON.stringify({ ...challenger(), coefficients: 'none' }));
    await expect(loadArtifact(path)).rejects.toThrow(`artifact ${path}: coefficients:`);
    await writeFile(path, '{not json');
    await expect(loadArtifact(path)).rejects.toThrow(`artifact ${path}: not JSON`);
  });

  it('train.ts runs as a child process: JSON-lines progress, an artifact in the store, clear failures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arena-train-'));
    const args = [
      'tsx',
      'examples/weather-model/train.ts',
      '--model',
      'w',
      '--version',
      '1.1.0',
      '--features',
      'seasonal+lags',
      '--train-from',
      '2012-01-01',
      '--train-to',
      '2014-12-31',
      '--holdout-from',
      '2015-01-01',
      '--holdout-to',
      '2015-12-31',
      '--out',
      join(dir, 'm.json'),
      '--store',
      join(dir, 'store'),
    ];
    const { stdout } = await run('npx', args);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; step?: string; digest?: string; uri?: string });
    expect(events.map((e) => e.step ?? e.event)).toEqual(['load', 'fit', 'evaluate', 'write', 'done']);
    const done = events.at(-1)!;
    const bytes = await readFile(join(dir, 'm.json'));
    expect(done.digest).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(done.uri).toBe(`arena-artifact://sha256/${done.digest}`);
    expect(JSON.parse(bytes.toString())).toEqual(JSON.parse(JSON.stringify(challenger())));

    const bad = await run(
      'npx',
      args.map((a) => (a === 'seasonal+lags' ? 'deep' : a)),
    ).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain(
      '--features must be one of seasonal, seasonal+lags (got "deep")',
    );
    const failed = await run('npx', args, {
      env: { ...process.env, ARENA_EXAMPLE_TRAIN_FAULT: 'fail' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { stderr: string }).stderr).toContain('injected training failure');

    const predicted = await run('npx', [
      'tsx',
      'examples/weather-model/predict.ts',
      '--artifact',
      join(dir, 'm.json'),
      '--date',
      '2015-06-01',
      '--digest',
      done.digest!,
    ]);
    const i = days.findIndex((d) => d.date === '2015-06-01');
    expect(JSON.parse(predicted.stdout)).toEqual({
      date: '2015-06-01',
      forecast: forecast(challenger(), days, i),
      actual: days[i]!.tempMax,
    });
    const badDate = await run('npx', [
      'tsx',
      'examples/weather-model/predict.ts',
      '--artifact',
      join(dir, 'm.json'),
      '--date',
      '2015-02-30',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(badDate).toMatchObject({ code: 1 });
    expect((badDate as { stderr: string }).stderr).toContain(
      '--date must be a real calendar date (got "2015-02-30")',
    );
  }, 60_000);
});
