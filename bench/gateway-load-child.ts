import { predictionRecord } from './synthetic-traffic.js';

/**
 * The load generator for gateway_ingest_records_per_s, in a second process: POSTs `total` predictions in
 * batches of `batch` with `concurrency` requests in flight, and prints the achieved records/s.
 */
const [base, token, startText, totalText, batchText, concurrencyText] = process.argv.slice(2);
const start = Number(startText);
const total = Number(totalText);
const batch = Number(batchText);
const concurrency = Number(concurrencyText);
let next = start;
let failures = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < start + total) {
      const from = next;
      next += batch;
      const records = [];
      for (let i = from; i < Math.min(from + batch, start + total); i++) records.push(predictionRecord(i));
      const res = await fetch(`${base}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(records),
      });
      const body = (await res.json()) as { accepted?: number };
      if (res.status !== 200 || body.accepted !== records.length) failures += 1;
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ recordsPerSecond: total / seconds, seconds, failures })}\n`);
