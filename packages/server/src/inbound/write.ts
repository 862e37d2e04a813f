import type { Config } from '../config.ts';
import { EventRejected, type GroupCommitWriter, prepareEvent, type WriteOutcome } from '../ingest/index.ts';
import type { InboundMessageEvent } from '../channels/index.ts';
import { AppError } from '../lib/errors.ts';

/** What became of an inbound message: stored now, or stored before (a redelivery). */
export type InboundOutcome = 'accepted' | 'duplicate';

/**
 * Stores a provider's inbound message through ingest's write model and group commit, exactly as
 * a bot's `message.created` would be: the same validation, the same rows, the same feed. The
 * bot is named by its Syncdeck id, the one whose credentials proved the request, rather than by
 * the address in the request. Resolves after COMMIT.
 */
export async function storeInbound(
  writer: GroupCommitWriter,
  config: Pick<Config, 'phoneDefaultRegion'>,
  bot: { tenantId: string; id: string },
  envelope: InboundMessageEvent,
): Promise<InboundOutcome> {
  const raw = { ...envelope, data: { ...envelope.data, bot: { id: bot.id } } };
  let event: ReturnType<typeof prepareEvent>;
  try {
    event = prepareEvent(raw, bot.tenantId, config.phoneDefaultRegion, new Date());
  } catch (error) {
    if (error instanceof EventRejected) throw AppError.invalid(error.details, 'The message is not valid');
    throw error;
  }
  const [outcome] = await writer.write([event]);
  return answer(outcome!);
}

function answer(outcome: WriteOutcome): InboundOutcome {
  if (outcome.status === 'rejected') throw AppError.invalid(outcome.details, 'The message is not valid');
  if (outcome.status === 'failed') {
    // SQLSTATE class 22: a value the database cannot store; sending it again cannot succeed.
    const code = (outcome.error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('22'))
      throw AppError.invalid([{ path: 'data', message: 'holds a value the database cannot store' }]);
    // Anything else is ours: a 5xx, so the provider delivers the message again later.
    throw outcome.error;
  }
  return outcome.status;
}
