import { conversationSchema, replyBodySchema, sentMessageSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { authTokenContext, findSealedAuthToken } from '../bots/index.ts';
import {
  type DeliveryReport,
  parseTwilioStatusCallback,
  planReply,
  verifyTwilioSignature,
} from '../channels/index.ts';
import { retryingTransaction } from '../db/retry.ts';
import { appendFeed, type FeedEntry } from '../feed/index.ts';
import { registerFormBody } from '../http/form-body.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { AppError } from '../lib/errors.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { enqueueDelivery } from '../outbox/index.ts';
import {
  applyReport,
  findByClientId,
  findReplyTarget,
  findSentByProviderId,
  handBack,
  insertReply,
} from './store.ts';

const tags = ['replies'];

/** Where Twilio posts status callbacks; the outbox asks for them here (`StatusCallback`). */
export const TWILIO_STATUS_PATH = '/api/channels/twilio/status';

export const replyRoutes: FastifyPluginAsyncZod<{ secrets: SecretBox }> = async (app, { secrets }) => {
  const { db, config } = app;
  // Only this plugin's routes read forms (Twilio's callbacks); the rest of the app stays JSON-only.
  registerFormBody(app);

  app.post(
    '/api/conversations/:id/messages',
    {
      schema: {
        tags,
        summary: "Answer the conversation's customer (scope `operate`)",
        description:
          'Stores the reply, hands the conversation to a person, and queues its delivery through the bot’s channel, in one transaction; 202 with the message, `deliveryStatus: queued`. A repeated `clientId` answers the message first stored with it (200) and sends nothing again.',
        params: uuidParamsSchema,
        body: replyBodySchema,
        response: {
          200: sentMessageSchema,
          202: sentMessageSchema,
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { tenant, principal } = await requireTenant(request, 'operate');
      const { content, mediaUrl, clientId } = request.body;
      const conversationId = request.params.id;
      const result = await retryingTransaction(db, async (tx) => {
        const target = await findReplyTarget(tx, tenant.id, conversationId);
        if (!target) throw AppError.notFound('Conversation');
        if (clientId) {
          const earlier = await findByClientId(tx, tenant.id, conversationId, clientId);
          if (earlier) return { message: earlier, repeated: true };
        }
        // Checked before anything is stored: a reply that cannot go out is refused, not kept.
        const probe = planReply(target.conversation, target.bot, {
          messageId: '00000000-0000-0000-0000-000000000000',
          content,
          mediaUrl: mediaUrl ?? null,
          createdAt: new Date(),
        });
        const author = {
          type: 'agent' as const,
          name: principal.kind === 'user' ? principal.name : null,
          userId: principal.kind === 'user' ? principal.id : null,
        };
        const feed: FeedEntry[] = [];
        const stored = await insertReply(
          tx,
          {
            tenantId: tenant.id,
            conversationId,
            content,
            mediaUrl: mediaUrl ?? null,
            clientId: clientId ?? null,
            author,
            handOver: true,
            deliveryStatus: probe.kind === 'feed' ? 'sent' : 'queued',
          },
          feed,
        );
        if (!stored) {
          // The same clientId committed by a concurrent request between our look and our insert.
          const earlier = await findByClientId(tx, tenant.id, conversationId, clientId!);
          return { message: earlier!, repeated: true };
        }
        const plan = planReply(target.conversation, target.bot, {
          messageId: stored.message.id,
          content,
          mediaUrl: mediaUrl ?? null,
          author,
          createdAt: new Date(stored.message.createdAt),
        });
        if (plan.kind !== 'feed') await enqueueDelivery(tx, { tenantId: tenant.id, ...plan });
        await appendFeed(tx, feed);
        return { message: stored.message, repeated: false };
      });
      return reply.code(result.repeated ? 200 : 202).send(result.message);
    },
  );

  app.post(
    '/api/conversations/:id/handback',
    {
      schema: {
        tags,
        summary: 'Hand the conversation back to its bot (scope `operate`)',
        description: '`isBotActive` becomes true, on the change feed as `conversation.updated`.',
        params: uuidParamsSchema,
        response: { 200: conversationSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'operate');
      const conversation = await retryingTransaction(db, (tx) => handBack(tx, tenant.id, request.params.id));
      if (!conversation) throw AppError.notFound('Conversation');
      return conversation;
    },
  );

  app.post(
    TWILIO_STATUS_PATH,
    {
      schema: {
        tags,
        summary: "Twilio's status callback for a message Syncdeck sent (signed, form-encoded)",
        description:
          'Verified with `X-Twilio-Signature` and the sending bot’s auth token. Moves the message’s delivery status by the status order (never backwards). An unknown `MessageSid` answers 200 and changes nothing, so Twilio does not retry it.',
        body: z.record(z.string(), z.string()),
        response: { 204: z.null(), 200: z.string().describe('Empty'), ...errorResponses(400, 403) },
      },
    },
    async (request, reply) => {
      const update = parseTwilioStatusCallback(request.body);
      const sent = await findSentByProviderId(db, update.messageSid);
      // Unknown (or sent before this release): 200 all the same, or Twilio retries it for hours.
      // Nothing is said or changed, so answering before the signature check reveals nothing usable.
      if (!sent) return reply.code(200).type('text/plain; charset=utf-8').send('');
      const sealed = await findSealedAuthToken(db, sent.tenantId, sent.botId);
      const token = sealed ? secrets.open(sealed, authTokenContext(sent.tenantId)) : '';
      const url = `${config.publicUrl}${TWILIO_STATUS_PATH}`;
      if (!verifyTwilioSignature(token, url, request.body, request.headers['x-twilio-signature']))
        throw new AppError('forbidden', 'The X-Twilio-Signature does not match');
      if (update.kind === 'ignored') return reply.code(204).send(null);
      const report: DeliveryReport = {
        status: update.status,
        errorCode: update.errorCode,
        errorReason: update.errorReason,
      };
      await retryingTransaction(db, (tx) => applyReport(tx, sent.tenantId, sent.messageId, report));
      return reply.code(204).send(null);
    },
  );
};
