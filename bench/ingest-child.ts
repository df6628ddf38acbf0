import { createRecorder } from '../src/ingest/recorder.js';
import { feedbackRecord, predictionRecord } from './synthetic-traffic.js';

/**
 * Runs in its own process so its peak RSS is the recorder's alone: ingests records [start, start+count)
 * as fast as it can (feedback for every `feedbackEvery`-th, each in one of `segments` segments when given)
 * and prints one JSON line with the figures.
 */
const [url, startText, countText, feedbackEveryText, segmentsText] = process.argv.slice(2);
const start = Number(startText);
const count = Number(countText);
const feedbackEvery = Number(feedbackEveryText ?? 10);
/** With a count, each record names one of that many segments (the per-segment check's rollups). */
const segments = Number(segmentsText ?? 0);
const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
const recorder = createRecorder({ databaseUrl: url!, validateModels: false });
const chunk = 5_000;
const t0 = performance.now();
for (let i = start; i < start + count; i += chunk) {
  const end = Math.min(i + chunk, start + count);
  const predictions = [];
  for (let j = i; j < end; j++)
    predictions.push(
      segments > 0 ? { ...predictionRecord(j), segment: `s${(j * 7919) % segments}` } : predictionRecord(j),
    );
  await recorder.recordPredictions(predictions);
}
await recorder.flush();
const predictionSeconds = (performance.now() - t0) / 1000;
const feedback = [];
for (let j = start; j < start + count; j += feedbackEvery) {
  feedback.push(feedbackRecord(j));
  if (feedback.length === chunk) await recorder.recordFeedbackBatch(feedback.splice(0));
}
await recorder.recordFeedbackBatch(feedback);
await recorder.close();
process.stdout.write(
  `${JSON.stringify({
    predictionsPerSecond: count / predictionSeconds,
    seconds: (performance.now() - t0) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb,
  })}\n`,
);
