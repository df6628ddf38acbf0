import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** `metrics` may read /metrics, which names tenants and models; give it to the Prometheus scraper. */
export const ROLES = ['ingest', 'operator', 'approver', 'metrics', 'registrar', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenGrant {
  /** Who the token belongs to; recorded as the actor of what it does. */
  name: string;
  tenantId: string;
  roles: Role[];
}

const grantSchema = z.object({
  token: z.string().min(16, 'tokens must be at least 16 characters'),
  name: z.string().min(1),
  tenant: z.string().min(1).default('default'),
  roles: z.array(z.enum(ROLES)).min(1),
});

export const tokensSchema = z.array(grantSchema);
export type TokenConfig = z.input<typeof tokensSchema>;

interface StoredGrant extends TokenGrant {
  digest: Buffer;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * Bearer tokens with roles and a tenant. Tokens are compared as SHA-256 digests with timingSafeEqual, so
 * the comparison takes the same time whatever the token and however much of it matches; every configured
 * token is compared, so the position of a match does not leak either.
 */
export class TokenStore {
  private readonly grants: StoredGrant[];

  constructor(config: TokenConfig) {
    this.grants = tokensSchema
      .parse(config)
      .map((g) => ({ name: g.name, tenantId: g.tenant, roles: g.roles, digest: digest(g.token) }));
  }

  /** Parses ARENA_GATEWAY_TOKENS: a JSON array of { token, name, tenant, roles }. */
  static fromEnv(value: string | undefined): TokenStore {
    if (!value) return new TokenStore([]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new Error(`ARENA_GATEWAY_TOKENS is not valid JSON: ${(err as Error).message}`);
    }
    return new TokenStore(parsed as TokenConfig);
  }

  get size(): number {
    return this.grants.length;
  }

  authenticate(authorization: string | undefined): TokenGrant | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = digest(match[1]!);
    let found: StoredGrant | undefined;
    for (const grant of this.grants) {
      if (timingSafeEqual(grant.digest, presented) && !found) found = grant;
    }
    return found && { name: found.name, tenantId: found.tenantId, roles: found.roles };
  }
}
