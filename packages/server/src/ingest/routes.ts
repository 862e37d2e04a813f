import { MAX_BATCH_EVENTS, type SyncResult, syncEventNames, syncResultSchema } from '@syncdeck/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { EventRejected, type PreparedEvent, prepareEvent } from './prepare.ts';
import type { GroupCommitWriter, WriteOutcome } from './writer.ts';

const singleResponse = z.object({
  status: z.enum(['accepted', 'duplicate']),
  event_id: z.string().optional(),
});

const batchResponse = z.object({
  accepted: z.number().int(),
  duplicate: z.number().int(),
  rejected: z.number().int(),
  results: z.array(syncResultSchema),
});

const description = `Push what happened in a bot. Body: one event \`{"event", "data", "event_id"?, "occurred_at"?}\`
or a batch \`{"events": [...]}\` of up to ${MAX_BATCH_EVENTS}. Events: ${syncEventNames.map((n) => `\`${n}\``).join(', ')}.
A 200 means committed. An \`event_id\` already applied answers \`duplicate\` and changes nothing. In a batch each
event is applied whole or not at all, and answered by index.`;

export const ingestRoutes: FastifyPluginAsyncZod<{ writer: GroupCommitWriter }> = async (app, { writer }) => {
  const { config } = app;

  const ingest = async (request: FastifyRequest, body: Record<string, unknown>) => {
    const { tenant } = await requireTenant(request, 'ingest');
    const now = new Date();
    const prepare = (raw: unknown): PreparedEvent =>
      prepareEvent(raw, tenant.id, config.phoneDefaultRegion, now);

    if (!('events' in body)) {
      let event: PreparedEvent;
      try {
        event = prepare(body);
      } catch (error) {
        if (error instanceof EventRejected) throw AppError.invalid(error.details, 'The event is not valid');
        throw error;
      }
      const [outcome] = await writer.write([event]);
      return singleAnswer(outcome!, event.eventId);
    }

    const events = body.events;
    if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH_EVENTS) {
      throw AppError.invalid(
        [{ path: 'events', message: `must be an array of 1 to ${MAX_BATCH_EVENTS} events` }],
        'The batch is not valid',
      );
    }
    const results: SyncResult[] = new Array(events.length);
    const prepared: { index: number; event: PreparedEvent }[] = [];
    events.forEach((raw, index) => {
      try {
        prepared.push({ index, event: prepare(raw) });
      } catch (error) {
        if (!(error instanceof EventRejected)) throw error;
        results[index] = {
          index,
          status: 'rejected',
          error: { message: 'The event is not valid', details: error.details },
        };
      }
    });
    const outcomes = await writer.write(prepared.map((p) => p.event));
    prepared.forEach(({ index, event }, i) => {
      results[index] = batchResult(index, event.eventId, outcomes[i]!);
    });
    const count = (status: SyncResult['status']) => results.filter((r) => r.status === status).length;
    return {
      accepted: count('accepted'),
      duplicate: count('duplicate'),
      rejected: count('rejected'),
      results,
    };
  };

  const schema = {
    tags: ['sync'],
    summary: 'Ingest bot events (`/functions/v1/sync`, the path existing bots call)',
    description,
    body: z.record(z.string(), z.unknown()),
    response: { 200: z.union([singleResponse, batchResponse]), ...errorResponses(400, 401, 403, 404, 413) },
  };
  for (const url of ['/functions/v1/sync', '/api/sync/events']) {
    app.post(url, { schema }, (request) => ingest(request, request.body));
  }
};

/**
 * Validation refuses what PostgreSQL cannot store; should a value slip past it, the database's data
 * exception (SQLSTATE class 22) still means this event can never be stored. It is answered as
 * invalid, never as retryable, or a bot would send it again forever.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

const unstorable = [{ path: 'data', message: 'holds a value the database cannot store' }];

function singleAnswer(outcome: WriteOutcome, eventId: string | null) {
  if (outcome.status === 'rejected') throw AppError.invalid(outcome.details, 'The event is not valid');
  if (outcome.status === 'failed') {
    if (isDataException(outcome.error)) throw AppError.invalid(unstorable, 'The event is not valid');
    throw outcome.error;
  }
  return { status: outcome.status, ...(eventId ? { event_id: eventId } : {}) };
}

function batchResult(index: number, eventId: string | null, outcome: WriteOutcome): SyncResult {
  const id = eventId ? { event_id: eventId } : {};
  if (outcome.status === 'rejected') {
    return {
      index,
      status: 'rejected',
      ...id,
      error: { message: 'The event is not valid', details: outcome.details },
    };
  }
  if (outcome.status === 'failed' && isDataException(outcome.error)) {
    return {
      index,
      status: 'rejected',
      ...id,
      error: { message: 'The event is not valid', details: unstorable },
    };
  }
  if (outcome.status === 'failed') {
    return {
      index,
      status: 'rejected',
      ...id,
      error: { message: 'The event could not be stored; retry it', details: [], retryable: true },
    };
  }
  return { index, status: outcome.status, ...id };
}
