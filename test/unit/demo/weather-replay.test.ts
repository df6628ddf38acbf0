import { describe, expect, it } from 'vitest';
import { weatherReplay } from '../../../src/demo/weather-replay.js';
import { loadWeather } from '../../../examples/weather-model/data.js';
import { evaluate, trainWeatherModel } from '../../../examples/weather-model/model.js';

const { days } = loadWeather();
const train = (version: string, featureSet: 'seasonal' | 'seasonal+lags') =>
  trainWeatherModel(days, {
    model: 'w',
    version,
    featureSet,
    trainFrom: '2012-01-01',
    trainTo: '2014-12-31',
    holdoutFrom: '2015-01-01',
    holdoutTo: '2015-12-31',
  });

describe('the demo’s weather replay', () => {
  const champion = train('1.0.0', 'seasonal');
  const challenger = train('1.1.0', 'seasonal+lags');

  it('reports each version’s MAE over the replayed days, as the model’s own evaluation does', () => {
    const replay = weatherReplay({
      days,
      from: '2015-03-01',
      to: '2015-05-31',
      artifacts: { '1.0.0': champion, '1.1.0': challenger },
    });
    expect(replay.dates).toHaveLength(92);
    for (const [version, artifact] of [
      ['1.0.0', champion],
      ['1.1.0', challenger],
    ] as const)
      expect(replay.mae(version)).toBeCloseTo(evaluate(artifact, days, '2015-03-01', '2015-05-31').mae, 12);
    expect(replay.mae('9.9.9')).toBeNaN();
  });

  it('leaves out days a version cannot forecast, and has no MAE when it can forecast none', () => {
    // The first day of the data has no yesterday: the lag model cannot forecast it, the seasonal one can.
    const replay = weatherReplay({
      days,
      from: '2012-01-01',
      to: '2012-01-01',
      artifacts: { '1.0.0': champion, '1.1.0': challenger },
    });
    expect(replay.request(0).predict('1.1.0')).toBeNull();
    expect(replay.mae('1.1.0')).toBeNaN();
    expect(replay.mae('1.0.0')).toBeCloseTo(
      Math.abs(replay.request(0).predict('1.0.0')! - days[0]!.tempMax),
      15,
    );
  });
});
