import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';
import type { Role, TokenGrant, TokenStore } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    grant?: TokenGrant;
  }
}

export type RequireRole = (...roles: Role[]) => (request: FastifyRequest) => Promise<void>;

/**
 * The bearer token's grant, checked before anything else of the request (an `onRequest` hook): a caller
 * without a valid token learns nothing about the route's input rules, and the role names in the 403 are the
 * ones the route's documentation lists.
 */
export function createRequireRole(tokens: TokenStore): RequireRole {
  return (...roles) =>
    async (request) => {
      const grant = tokens.authenticate(request.headers.authorization);
      if (!grant)
        throw new HttpError(
          401,
          'missing or unknown bearer token',
          'Send Authorization: Bearer <token> with a configured token.',
        );
      if (!roles.some((r) => grant.roles.includes(r)))
        throw new HttpError(403, `token "${grant.name}" lacks the role ${roles.join(' or ')}`);
      request.grant = grant;
    };
}

/** The grant of a request that passed `requireRole`. */
export const grantOf = (request: FastifyRequest): TokenGrant => {
  if (!request.grant) throw new HttpError(401, 'missing or unknown bearer token');
  return request.grant;
};

/** The OpenAPI description of who may call a route. */
export const rolesNote = (roles: Role[]): string =>
  `Requires a bearer token with the role ${roles.map((r) => `\`${r}\``).join(' or ')}.`;
