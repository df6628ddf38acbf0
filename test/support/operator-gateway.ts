import type { Knex } from 'knex';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { ContractWatch, expectContractKept } from './contract.js';
import type { TestTemporal } from './temporal.js';

export interface OperatorGateway {
  /** One request as the operator `olga` (in process, no port); the JSON body as parsed. */
  call<T = Record<string, unknown>>(
    method: 'GET' | 'POST',
    url: string,
    body?: Record<string, unknown>,
  ): Promise<{ status: number; body: T }>;
  /** Closes the gateway and checks every response it gave against docs/openapi.json. */
  close(): Promise<void>;
}

/** A gateway on a test's database and Temporal with one operator token, its responses contract-checked. */
export async function operatorGateway(
  db: { url: string; knex: Knex },
  temporal: Pick<TestTemporal, 'client' | 'taskQueue'>,
): Promise<OperatorGateway> {
  const token = 'olga-operator-token-0123456789';
  const app = await buildGateway({
    databaseUrl: db.url,
    tokens: new TokenStore([{ token, name: 'olga', tenant: 'default', roles: ['operator'] }]),
    people: { knex: db.knex, temporal: { client: temporal.client, taskQueue: temporal.taskQueue } },
  });
  const contract = await ContractWatch.watch(app);
  return {
    async call<T>(method: 'GET' | 'POST', url: string, body?: Record<string, unknown>) {
      const res = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(body !== undefined ? { payload: body } : {}),
      });
      return { status: res.statusCode, body: res.json<T>() };
    },
    async close() {
      await app.close();
      expectContractKept(contract);
    },
  };
}
