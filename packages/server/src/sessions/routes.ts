import { loginSchema, type Me, meSchema, membershipSchema, userSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../lib/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { findUser, listMemberships } from '../users/index.ts';
import { getPrincipal, type Principal, requirePrincipal, SESSION_COOKIE } from '../auth/index.ts';
import { DUMMY_PASSWORD_HASH, generateSessionToken, hashToken, verifyPassword } from '../lib/secrets.ts';
import {
  beginLoginAttempt,
  deleteSession,
  failLoginAttempt,
  findUserForLogin,
  insertSession,
  refuseLoginAttempt,
  succeedLoginAttempt,
} from './store.ts';

export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config, db } = app;

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password; sets an httpOnly session cookie',
        security: [],
        body: loginSchema,
        response: {
          200: z.object({ user: userSchema, memberships: z.array(membershipSchema) }),
          ...errorResponses(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const attempt = await beginLoginAttempt(
        db,
        email,
        request.ip,
        config.loginMaxFailures,
        config.loginWindowMinutes,
      );
      if (!attempt.allowed) {
        await refuseLoginAttempt(db, attempt);
        // Whether the account or the address is locked is not said: either would tell a guesser something.
        throw new AppError(
          'too_many_attempts',
          'Too many failed logins for this account or from this address; try again later',
          undefined,
          { 'retry-after': String(attempt.retryAfterSeconds) },
        );
      }
      const candidate = await findUserForLogin(db, email);
      // Hash against a dummy when the email is unknown, so timing does not reveal which emails exist.
      const passwordMatches = await verifyPassword(password, candidate?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!candidate || !passwordMatches) {
        await failLoginAttempt(db, config.loginWindowMinutes);
        throw new AppError('invalid_credentials', 'The email or password is wrong');
      }
      await succeedLoginAttempt(db, attempt);
      const token = generateSessionToken();
      const expiresAt = await insertSession(db, candidate.id, hashToken(token), config.sessionTtlHours);
      reply.setCookie(SESSION_COOKIE, token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: config.cookieSecure,
        expires: expiresAt,
      });
      const user = await findUser(db, candidate.id);
      return { user: user!, memberships: await listMemberships(db, candidate.id) };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'End the session of this cookie, everywhere, at once',
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      // Only the cookie matters here; a Bearer key has no session to end.
      const principal = request.headers.authorization ? null : await getPrincipal(request);
      if (principal?.sessionId) await deleteSession(db, principal.sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  /** Who a credential belongs to and the tenants it may act for. */
  async function whoIs(principal: Principal): Promise<Me | null> {
    if (principal.kind === 'apiKey') {
      return {
        user: null,
        apiKey: {
          id: principal.id,
          name: principal.name,
          tenantId: principal.keyTenantId,
          scopes: [...principal.keyScopes],
        },
        memberships: [],
      };
    }
    const user = await findUser(db, principal.id);
    if (!user) return null;
    return { user, apiKey: null, memberships: await listMemberships(db, principal.id) };
  }

  app.get(
    '/api/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who the credential belongs to and the tenants it may act for',
        description:
          'No credential (or an ended session) answers 401; `GET /api/session` answers 200 instead.',
        response: { 200: meSchema, ...errorResponses(401) },
      },
    },
    async (request) => {
      const me = await whoIs(await requirePrincipal(request));
      if (!me) throw AppError.unauthorized();
      return me;
    },
  );

  app.get(
    '/api/session',
    {
      schema: {
        tags: ['auth'],
        summary: 'Whether this browser is logged in: who am I, answering 200 either way',
        description:
          "For a page probing its session: like `GET /api/me`, but no session cookie, or one that ended, answers 200 with `user: null`, so a visitor who is not logged in is not an error. A malformed or unknown `Authorization` key still answers 401: that is a client's mistake, not a visitor.",
        security: [],
        response: { 200: meSchema, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const principal = await getPrincipal(request);
      return (principal && (await whoIs(principal))) ?? { user: null, apiKey: null, memberships: [] };
    },
  );
};
