import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex } from '../db/knex.js';
import type { Logger } from '../log.js';
import { UnknownModelError } from '../errors.js';
import { backoffDelay } from '../retry/backoff.js';
import {
  findRouting,
  listRouting,
  ROUTING_CHANNEL,
  routingGenerations,
  type RoutingNotice,
} from './store.js';
import { decide, keyPrefix, type RouteDecision, type RouteOptions, type RoutingEntry } from './table.js';

export interface RouterOptions {
  /** Either a URL (the router opens its own small pool) or a knex instance to share. */
  databaseUrl?: string;
  knex?: Knex;
  tenantId?: string;
  /** Fallback when notifications are lost: compare generations this often. */
  pollIntervalMs?: number;
  log?: Logger;
}

export interface RouterHealth {
  listening: boolean;
  lastLoadAt: Date | undefined;
  lastError: string | undefined;
  models: number;
}

export interface Router {
  /** The routing decision for one request, from the in-memory table: no I/O, never blocks. */
  route(model: string, requestId: string, options?: RouteOptions): RouteDecision;
  entry(model: string): RoutingEntry | undefined;
  entries(): RoutingEntry[];
  health(): RouterHealth;
  /** Re-reads the whole table now. */
  refresh(): Promise<void>;
  /** 'change' (entry: RoutingEntry) whenever a newer generation is applied. */
  on(event: 'change', listener: (entry: RoutingEntry) => void): void;
  off(event: 'change', listener: (entry: RoutingEntry) => void): void;
  close(): Promise<void>;
}

interface Cached {
  entry: RoutingEntry;
  prefix: string;
}

/** Reconnects of the LISTEN connection: jittered, from up to 100 ms doubling to at most 5 s. */
const RECONNECT_BACKOFF = { baseMs: 100, maxMs: 5_000 };

/**
 * The in-process router of DESIGN.md §4. It loads the routing table once, applies changes announced with
 * Postgres NOTIFY within milliseconds, falls back to polling generations, reconnects with jittered backoff
 * (so that routers that lost Postgres together do not all come back at the same instants), and keeps
 * serving the last table it has while Postgres is unreachable.
 */
export async function createRouter(options: RouterOptions): Promise<Router> {
  const tenantId = options.tenantId ?? 'default';
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const log = options.log;
  const listenConfig = options.databaseUrl
    ? { connectionString: options.databaseUrl }
    : clientConfigOf(options.knex);
  const ownKnex = options.knex ? undefined : createKnex(options.databaseUrl!, { max: 2 });
  const knex = options.knex ?? ownKnex!;
  const table = new Map<string, Cached>();
  const events = new EventEmitter();
  let listener: pg.Client | undefined;
  // Set while a LISTEN connection is being opened, so a slow connect cannot be joined by a second one.
  let connecting = false;
  let closed = false;
  /** Failed LISTEN connections since the last one that worked. */
  let reconnectAttempts = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let lastLoadAt: Date | undefined;
  let lastError: string | undefined;

  const apply = (entry: RoutingEntry): void => {
    const current = table.get(entry.model);
    if (current && current.entry.generation >= entry.generation) return;
    table.set(entry.model, { entry, prefix: keyPrefix(entry) });
    if (current) events.emit('change', entry);
  };

  const loadAll = async (): Promise<void> => {
    for (const entry of await listRouting(knex, tenantId)) apply(entry);
    lastLoadAt = new Date();
  };

  const loadOne = async (model: string): Promise<void> => {
    const entry = await findRouting(knex, model, tenantId);
    if (entry) apply(entry);
    lastLoadAt = new Date();
  };

  const recordError = (err: unknown, what: string): void => {
    lastError = `${what}: ${(err as Error).message}`;
    log?.warn({ err: (err as Error).message }, `router: ${what}; serving the last known table`);
  };

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer || connecting || listener) return;
    reconnectTimer = setTimeout(
      () => {
        reconnectTimer = undefined;
        void listen();
      },
      backoffDelay(++reconnectAttempts, RECONNECT_BACKOFF),
    );
    reconnectTimer.unref();
  };

  const listen = async (): Promise<void> => {
    if (connecting || listener || closed) return;
    connecting = true;
    const client = new pg.Client({ ...listenConfig, connectionTimeoutMillis: 5_000, keepAlive: true });
    // Without a listener pg would throw the connection's error out of the process.
    client.on('error', (err) => {
      recordError(err, 'notification connection lost');
      if (listener === client) listener = undefined;
      client.end().catch(() => undefined);
      scheduleReconnect();
    });
    client.on('notification', (msg) => {
      if (msg.channel !== ROUTING_CHANNEL || !msg.payload) return;
      let notice: RoutingNotice;
      try {
        notice = JSON.parse(msg.payload) as RoutingNotice;
      } catch {
        return;
      }
      if (notice.tenantId !== tenantId) return;
      if ((table.get(notice.model)?.entry.generation ?? 0) >= notice.generation) return;
      loadOne(notice.model).catch((err: unknown) => recordError(err, `reloading ${notice.model}`));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ROUTING_CHANNEL}`);
      if (closed) {
        await client.end();
        return;
      }
      listener = client;
      connecting = false;
      reconnectAttempts = 0;
      // Changes committed while we were not listening: catch up.
      await loadAll();
      lastError = undefined;
    } catch (err) {
      recordError(err, 'cannot listen for routing changes');
      if (listener === client) listener = undefined;
      connecting = false;
      client.end().catch(() => undefined);
      scheduleReconnect();
    } finally {
      connecting = false;
    }
  };

  const poll = setInterval(() => {
    routingGenerations(knex, tenantId)
      .then(async (rows) => {
        for (const row of rows) {
          if ((table.get(row.model)?.entry.generation ?? 0) < row.generation) await loadOne(row.model);
        }
        if (!listener) scheduleReconnect();
      })
      .catch((err: unknown) => recordError(err, 'polling routing generations'));
  }, pollIntervalMs);
  poll.unref();

  await loadAll();
  await listen();

  return {
    route(model, requestId, routeOptions) {
      const cached = table.get(model);
      if (!cached) throw new UnknownModelError(model);
      return decide(cached.entry, requestId, routeOptions, cached.prefix);
    },
    entry: (model) => table.get(model)?.entry,
    entries: () => [...table.values()].map((c) => c.entry),
    health: () => ({ listening: listener !== undefined, lastLoadAt, lastError, models: table.size }),
    refresh: loadAll,
    on: (event, fn) => void events.on(event, fn),
    off: (event, fn) => void events.off(event, fn),
    async close() {
      closed = true;
      clearInterval(poll);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await listener?.end().catch(() => undefined);
      listener = undefined;
      await ownKnex?.destroy();
    },
  };
}

/**
 * The LISTEN connection's settings from a knex instance. knex turns a connection string into an object and
 * keeps the password as a non-enumerable property, which a spread would drop, so it is copied by name.
 */
function clientConfigOf(knex: Knex | undefined): pg.ClientConfig {
  const connection = (knex?.client as { config?: { connection?: unknown } } | undefined)?.config?.connection;
  if (typeof connection === 'string') return { connectionString: connection };
  if (connection && typeof connection === 'object') {
    const c = connection as pg.ClientConfig;
    return { ...c, password: c.password };
  }
  throw new Error('createRouter needs databaseUrl, or a knex instance with connection settings');
}
