import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  path: string;
  /** The Idempotency-Key header the notifier sends. */
  key: string | undefined;
  body: Record<string, unknown>;
  /** The status this receiver answered with. */
  answered: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT`, for sink URLs. */
  base: string;
  /** Every request so far, in order of arrival. */
  received: ReceivedHook[];
  close(): void;
}

/**
 * A local webhook receiver for notification tests: records each JSON body with its path and key, and
 * answers with `answer(path)` (200 unless a test wants a failing sink).
 */
export async function startWebhookReceiver(
  answer: (path: string) => number = () => 200,
): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      const answered = answer(path);
      received.push({
        path,
        key: req.headers['idempotency-key'] as string | undefined,
        body: JSON.parse(data) as Record<string, unknown>,
        answered,
      });
      res.writeHead(answered).end(answered === 400 ? 'bad request' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => void server.close(),
  };
}
