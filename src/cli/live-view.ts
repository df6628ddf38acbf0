import { createLogUpdate } from 'log-update';
import type { ArenaClient } from '../client/arena-client.js';
import { FINAL_STATES, type RolloutStatus } from '../rollout/types.js';
import { formatEvent, renderPanel } from './rollout-view.js';

export interface WatchOptions {
  arena: ArenaClient;
  rolloutId: string;
  /** Where lines go (stdout for the CLI; the demo indents them). */
  write: (text: string) => void;
  /**
   * On a terminal the panel is redrawn in place under a growing trail of events; elsewhere (CI logs,
   * pipes) the panel is printed only when the state or stage changes, so logs stay readable.
   */
  stream?: NodeJS.WriteStream | undefined;
  indent?: string;
  intervalMs?: number;
  /** Checked every tick: true ends the watch early (Ctrl-C in the demo). */
  stop?: () => boolean;
}

/** Follows a rollout to its end: the live panel plus every event as it happens. Returns the final status. */
export async function watchRollout(opts: WatchOptions): Promise<RolloutStatus> {
  const indent = opts.indent ?? '';
  const pad = (text: string): string =>
    text
      .split('\n')
      .map((l) => indent + l)
      .join('\n');
  const live = opts.stream?.isTTY ? createLogUpdate(opts.stream) : null;
  let printedEvents = 0;
  let lastKey = '';
  try {
    for (;;) {
      const status = await opts.arena.status(opts.rolloutId);
      const fresh = status.events.filter((e) => e.seq > printedEvents);
      if (fresh.length) {
        live?.clear();
        for (const e of fresh) opts.write(pad(formatEvent(e)));
        printedEvents = Math.max(...status.events.map((e) => e.seq));
      }
      const panel = pad(renderPanel(status));
      const ended = FINAL_STATES.includes(status.state);
      if (live) live(panel);
      else {
        const key = `${status.state}|${status.stage?.index ?? ''}|${status.paused}`;
        if (key !== lastKey || ended) opts.write(panel);
        lastKey = key;
      }
      if (ended || opts.stop?.()) return status;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  } finally {
    live?.done();
  }
}
