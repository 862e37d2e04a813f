import {
  BOT_SESSION_MAX_STATE_BYTES,
  botSessionKeySchema,
  botSessionSchema,
  putBotSessionSchema,
} from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import {
  botExists,
  deleteSession,
  type Precondition,
  readSession,
  type SessionKey,
  writeSession,
} from './store.ts';

const paramsSchema = z.object({ botId: z.string().uuid(), customerKey: botSessionKeySchema });

// Loose: the other headers (Authorization above all) must survive validation untouched.
const conditionalHeaders = z.looseObject({
  'if-match': z
    .string()
    .max(500)
    .optional()
    .describe('`"<version>"` (or a list, or `*`): write or delete only over that version; 409 otherwise'),
  'if-none-match': z
    .string()
    .max(500)
    .optional()
    .describe('`*` on PUT: create only; 409 when a live session exists'),
});

/** Room for the state plus the envelope and JSON whitespace; the state itself is measured exactly. */
const PUT_BODY_LIMIT = 2 * BOT_SESSION_MAX_STATE_BYTES + 1024;

const etag = (version: number) => `"${version}"`;

/** `If-Match` values: `*`, or quoted (weak allowed) or bare versions separated by commas. */
function parseIfMatch(header: string | undefined): number[] | '*' | null {
  if (header === undefined) return null;
  if (header.trim() === '*') return '*';
  const versions = header.split(',').map((part) => {
    const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(part);
    if (!match) {
      throw AppError.badRequest('The request is not valid', [
        { path: 'headers.if-match', message: 'must be * or the ETag of a version, e.g. "42"' },
      ]);
    }
    return Number(match[1]);
  });
  return versions;
}

function precondition(headers: z.infer<typeof conditionalHeaders>): Precondition {
  const ifMatch = parseIfMatch(headers['if-match']);
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (ifMatch !== null || ifNoneMatch.trim() !== '*') {
      throw AppError.badRequest('The request is not valid', [
        { path: 'headers.if-none-match', message: 'only * is supported, and not together with If-Match' },
      ]);
    }
    return { kind: 'absent' };
  }
  if (ifMatch === '*') return { kind: 'exists' };
  if (ifMatch) return { kind: 'version', versions: ifMatch };
  return { kind: 'none' };
}

export const botSessionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  /** The session's key in the caller's tenant; a bot of another tenant is 404, like a missing one. */
  async function sessionKey(
    request: Parameters<typeof requireTenant>[0],
    botId: string,
    customerKey: string,
  ) {
    const { tenant } = await requireTenant(request, 'ingest');
    if (!(await botExists(db, tenant.id, botId))) throw AppError.notFound('Bot');
    return { tenantId: tenant.id, botId, customerKey } satisfies SessionKey;
  }

  app.get(
    '/api/bot-sessions/:botId/:customerKey',
    {
      schema: {
        tags: ['bot sessions'],
        summary: "A bot's stored state for one customer",
        description:
          'Answers the state with its `version`, also as the `ETag` header. An expired or absent session is 404.',
        params: paramsSchema,
        response: { 200: botSessionSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const key = await sessionKey(request, request.params.botId, request.params.customerKey);
      const session = await readSession(db, key);
      if (!session) throw AppError.notFound('Session');
      reply.header('etag', etag(session.version)).header('cache-control', 'no-store');
      return session;
    },
  );

  app.put(
    '/api/bot-sessions/:botId/:customerKey',
    {
      bodyLimit: PUT_BODY_LIMIT,
      schema: {
        tags: ['bot sessions'],
        summary: "Store a bot's state for one customer",
        description:
          `Replaces the state (any JSON, at most ${BOT_SESSION_MAX_STATE_BYTES} bytes compact: larger is 413). ` +
          '`ttlSeconds` sets the expiry afresh on every write; without it the session is kept until deleted. ' +
          '`If-Match: "<version>"` writes only over that version (409 when another writer got there first); ' +
          '`If-None-Match: *` creates only. 201 when there was no live session, else 200; `ETag` is the new version.',
        params: paramsSchema,
        headers: conditionalHeaders,
        body: putBotSessionSchema,
        response: {
          200: botSessionSchema,
          201: botSessionSchema,
          ...errorResponses(400, 401, 403, 404, 409, 413),
        },
      },
    },
    async (request, reply) => {
      const condition = precondition(request.headers);
      const key = await sessionKey(request, request.params.botId, request.params.customerKey);
      const stateJson = JSON.stringify(request.body.state);
      const size = Buffer.byteLength(stateJson, 'utf8');
      if (size > BOT_SESSION_MAX_STATE_BYTES) {
        throw new AppError(
          'state_too_large',
          `The state is ${size} bytes as JSON; at most ${BOT_SESSION_MAX_STATE_BYTES} are kept`,
          [{ path: 'state', message: `at most ${BOT_SESSION_MAX_STATE_BYTES} bytes` }],
        );
      }
      const result = await writeSession(db, key, stateJson, request.body.ttlSeconds ?? null, condition);
      if (!result.ok) throw await conflict(key, condition);
      reply.header('etag', etag(result.session.version));
      return reply.code(result.created ? 201 : 200).send(result.session);
    },
  );

  app.delete(
    '/api/bot-sessions/:botId/:customerKey',
    {
      schema: {
        tags: ['bot sessions'],
        summary: "Forget a bot's state for one customer",
        description: '`If-Match: "<version>"` deletes only that version (409 otherwise). 204 when deleted.',
        params: paramsSchema,
        headers: conditionalHeaders,
        response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const ifMatch = parseIfMatch(request.headers['if-match']);
      if (request.headers['if-none-match'] !== undefined) {
        throw AppError.badRequest('The request is not valid', [
          { path: 'headers.if-none-match', message: 'not supported on DELETE' },
        ]);
      }
      const key = await sessionKey(request, request.params.botId, request.params.customerKey);
      const versions = Array.isArray(ifMatch) ? ifMatch : null;
      if (await deleteSession(db, key, versions)) return reply.code(204).send(null);
      if (versions && (await readSession(db, key))) throw await conflict(key, { kind: 'version', versions });
      throw AppError.notFound('Session');
    },
  );

  /** Why a conditional write failed, with the session's current version when there is one. */
  async function conflict(key: SessionKey, condition: Precondition): Promise<AppError> {
    const current = await readSession(db, key);
    const headers: Record<string, string> = current ? { etag: etag(current.version) } : {};
    if (condition.kind === 'absent') {
      return new AppError(
        'session_exists',
        'A session already exists for this customer',
        [
          {
            path: 'headers.if-none-match',
            message: current ? `the session is at version ${current.version}` : 'a session was written',
          },
        ],
        headers,
      );
    }
    return new AppError(
      'version_conflict',
      current
        ? `The session changed: it is at version ${current.version}`
        : 'There is no session at that version: it was deleted or has expired',
      [
        {
          path: 'headers.if-match',
          message: current ? `the session is at version ${current.version}` : 'no live session',
        },
      ],
      headers,
    );
  }
};
