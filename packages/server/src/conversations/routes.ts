import {
  conversationSchema,
  conversationStatsSchema,
  conversationStatuses,
  messageSchema,
  storableString,
} from '@syncdeck/core';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { searchPatterns } from '../customers/index.ts';
import { retryingTransaction } from '../db/retry.ts';
import { AppError } from '../lib/errors.ts';
import { MAX_PAGE_SIZE } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import {
  conversationStats,
  getConversation,
  type JsonArrayPage,
  listConversations,
  listMessages,
  markConversationRead,
} from './store.ts';

/** Bare-array lists (the seed's shape) carry their next cursor here. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

const limit = (fallback: number) => z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(fallback);
const offset = z.coerce.number().int().min(0).max(1_000_000).optional();
const cursor = z.string().min(1).max(500);

const listQuery = z
  .object({
    status: z.enum(conversationStatuses).optional(),
    limit: limit(50),
    offset,
    cursor: cursor.optional(),
    q: storableString().trim().min(1).max(200).optional().describe('Customer name, phone, or message text'),
    botId: z.string().uuid().optional(),
  })
  .superRefine((query, ctx) => {
    if (query.cursor !== undefined && query.offset !== undefined)
      ctx.addIssue({ code: 'custom', path: ['offset'], message: 'use either offset or cursor, not both' });
  });

const messagesQuery = z
  .object({
    limit: limit(100),
    offset,
    after: cursor.optional(),
    before: cursor.optional(),
    latest: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  })
  .superRefine((query, ctx) => {
    const ways = (['after', 'before', 'latest'] as const).filter((k) => query[k]);
    if (ways.length > 1)
      ctx.addIssue({ code: 'custom', path: [ways[1]!], message: `cannot be combined with ${ways[0]}` });
    if (query.offset !== undefined && (query.after || query.before))
      ctx.addIssue({ code: 'custom', path: ['offset'], message: 'use either offset or a cursor, not both' });
  });

const arrayListDescription = (what: string) =>
  `Answers a JSON array (the \`/api/db\` shape existing dashboards read). When more ${what} follow, the \`${NEXT_CURSOR_HEADER}\` response header holds the cursor of the next page.`;

/**
 * Sends a page the database wrote as JSON (its text goes out as it is; the response schema
 * documents it), the next cursor in its header.
 */
function sendJsonPage(reply: FastifyReply, page: JsonArrayPage): FastifyReply {
  if (page.nextCursor) reply.header(NEXT_CURSOR_HEADER, page.nextCursor);
  return reply.type('application/json').send(page.json);
}

export const conversationRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, config } = app;
  const tags = ['conversations'];

  app.get(
    '/api/db/conversations',
    {
      schema: {
        tags,
        summary: "The tenant's conversations, most recent activity first",
        description: `${arrayListDescription('conversations')} Pass it as \`cursor\`: keyset pages stay correct while messages arrive (a conversation that gets a new message moves to the top rather than repeating). \`offset\` works as existing \`/api/db\` clients use it, without \`cursor\`. \`q\` searches customer names, phones (any spelling) and message text.`,
        querystring: listQuery,
        response: { 200: z.array(conversationSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'read');
      const { q, ...filter } = request.query;
      const search = q ? searchPatterns(q, config.phoneDefaultRegion) : undefined;
      return sendJsonPage(reply, await listConversations(db, tenant.id, { ...filter, search }));
    },
  );

  app.get(
    '/api/db/conversations/stats',
    {
      schema: {
        tags,
        summary: "Counts of the tenant's conversations and unread messages",
        description: 'Kept as counters as conversations change: answered without counting rows.',
        response: { 200: conversationStatsSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      return conversationStats(db, tenant.id);
    },
  );

  app.get(
    '/api/db/conversations/:id',
    {
      schema: {
        tags,
        summary: 'One conversation',
        params: uuidParamsSchema,
        response: { 200: conversationSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const conversation = await getConversation(db, tenant.id, request.params.id);
      if (!conversation) throw AppError.notFound('Conversation');
      return conversation;
    },
  );

  app.get(
    '/api/db/conversations/:id/messages',
    {
      schema: {
        tags,
        summary: "A conversation's messages, oldest first",
        description: `${arrayListDescription('messages')} Without a cursor, pages run from the oldest message (\`offset\` as existing \`/api/db\` clients use it) and the cursor is for \`after\`. \`latest=true\` answers the newest \`limit\` messages and \`before\` the ones just older than its cursor; their cursor is for \`before\`, to page back. Every page is in time order, oldest first.`,
        params: uuidParamsSchema,
        querystring: messagesQuery,
        response: { 200: z.array(messageSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'read');
      const page = await listMessages(db, tenant.id, request.params.id, request.query);
      if (!page) throw AppError.notFound('Conversation');
      return sendJsonPage(reply, page);
    },
  );

  app.post(
    '/api/db/conversations/:id/read',
    {
      schema: {
        tags,
        summary: 'Mark a conversation read: its unread count goes to 0 (scope `operate`)',
        description:
          'Appends a `conversation.updated` event to the change feed in the same transaction. A conversation with nothing unread is left as it is.',
        params: uuidParamsSchema,
        response: { 200: conversationSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      // It changes state and appends to the feed: an operator's act, not a reader's.
      const { tenant } = await requireTenant(request, 'operate');
      const conversation = await retryingTransaction(db, (tx) =>
        markConversationRead(tx, tenant.id, request.params.id),
      );
      if (!conversation) throw AppError.notFound('Conversation');
      return conversation;
    },
  );
};
