import type { Knex } from 'knex';
import * as initialSchema from './20261122000001_initial_schema.js';
import * as routingHistory from './20261122000002_routing_history.js';
import * as rollupFunctions from './20261122000003_rollup_functions.js';
import * as slimPredictionIndexes from './20261122000004_slim_prediction_indexes.js';
import * as rollupStorage from './20261122000005_rollup_storage.js';
import * as monitoring from './20261122000006_monitoring.js';
import * as notificationDeliveries from './20261122000007_notification_deliveries.js';
import * as quarantinePoisonedRollups from './20261202000008_quarantine_poisoned_rollups.js';
import * as rollupShape from './20261202000009_rollup_shape.js';
import * as segments from './20261203000010_segments.js';
import * as lifecycleTimes from './20261204000011_lifecycle_times.js';
import * as championMonitor from './20261204000012_champion_monitor.js';
import * as timePartitions from './20261204000013_time_partitions.js';
import * as requestsKeyOrder from './20261205000014_requests_key_order.js';

/**
 * Migrations are listed here rather than discovered on disk so they work the same under tsx, vitest and
 * the compiled dist/ build (knex's directory loader cannot import .ts files outside tsx).
 * Append new migrations at the end; never edit one that has shipped.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261122000001_initial_schema': initialSchema,
  '20261122000002_routing_history': routingHistory,
  '20261122000003_rollup_functions': rollupFunctions,
  '20261122000004_slim_prediction_indexes': slimPredictionIndexes,
  '20261122000005_rollup_storage': rollupStorage,
  '20261122000006_monitoring': monitoring,
  '20261122000007_notification_deliveries': notificationDeliveries,
  '20261202000008_quarantine_poisoned_rollups': quarantinePoisonedRollups,
  '20261202000009_rollup_shape': rollupShape,
  '20261203000010_segments': segments,
  '20261204000011_lifecycle_times': lifecycleTimes,
  '20261204000012_champion_monitor': championMonitor,
  '20261204000013_time_partitions': timePartitions,
  '20261205000014_requests_key_order': requestsKeyOrder,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return Promise.resolve(migration);
  },
};
