import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { openApiDocument } from '../../src/gateway/openapi-document.js';

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
};

let docPromise: Promise<Doc> | undefined;

/**
 * The contract test: every response a gateway under test sends is checked against the OpenAPI document,
 * the status must be documented for its route and method, and a JSON body must match the schema
 * documented for that status. Watch a gateway before it starts listening; `expectContractKept` at the end.
 */
export class ContractWatch {
  readonly violations: string[] = [];
  readonly seen = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false });
  private readonly compiled = new Map<string, ReturnType<Ajv2020['compile']> | null>();
  private doc: Doc | undefined;

  static async watch(app: FastifyInstance): Promise<ContractWatch> {
    const w = new ContractWatch();
    docPromise ??= openApiDocument() as Promise<Doc>;
    w.doc = await docPromise;
    (addFormats as unknown as (a: Ajv2020) => void)(w.ajv);
    w.ajv.addSchema({ $id: 'arena-openapi', components: w.doc.components });
    app.addHook('onSend', async (request, reply, payload) => {
      const url = request.routeOptions.url;
      // Unmatched paths (Fastify's own 404) and the document's own pages are not operations.
      if (!url || url === '/openapi.json' || url.startsWith('/docs')) return payload;
      w.check(request.method.toLowerCase(), url, reply.statusCode, reply.getHeader('content-type'), payload);
      return payload;
    });
    return w;
  }

  private check(method: string, url: string, status: number, type: unknown, payload: unknown): void {
    const path = url.replace(/:(\w+)/g, '{$1}');
    const route = `${method.toUpperCase()} ${path} ${status}`;
    this.seen.add(route);
    const response = this.doc!.paths[path]?.[method]?.responses[String(status)];
    if (!response) {
      this.violations.push(`${route}: status not documented`);
      return;
    }
    if (!String(type ?? '').includes('application/json')) return;
    const schema = response.content?.['application/json']?.schema;
    if (!schema) {
      this.violations.push(`${route}: JSON body where none is documented`);
      return;
    }
    let validate = this.compiled.get(route);
    if (validate === undefined) {
      const withRefs = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', '"arena-openapi#/components/'),
      );
      validate = this.ajv.compile(withRefs);
      this.compiled.set(route, validate);
    }
    let body: unknown;
    try {
      body = JSON.parse(typeof payload === 'string' ? payload : String(payload));
    } catch {
      this.violations.push(`${route}: body is not JSON`);
      return;
    }
    if (!validate!(body))
      this.violations.push(
        `${route}: ${this.ajv.errorsText(validate!.errors)} in ${JSON.stringify(body).slice(0, 300)}`,
      );
  }
}

export function expectContractKept(w: ContractWatch | undefined): void {
  if (!w) return;
  expect(
    w.violations,
    `responses that differ from docs/openapi.json (seen: ${[...w.seen].join(', ')})`,
  ).toEqual([]);
}
