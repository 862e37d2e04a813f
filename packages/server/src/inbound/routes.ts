import type { FastifyPluginAsync } from 'fastify';
import type { GroupCommitWriter } from '../ingest/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { telegramInboundRoutes } from './telegram-routes.ts';
import { twilioInboundRoutes } from './twilio-routes.ts';

/**
 * Channels Syncdeck owns: providers call these routes directly, each request proven by the
 * bot's own credentials, and each message stored through ingest's writer (the one app.ts
 * builds), so it lands in the same rows, the same feed and the same commits as a bot's event.
 */
export const inboundRoutes: FastifyPluginAsync<{ writer: GroupCommitWriter; secrets: SecretBox }> = async (
  app,
  options,
) => {
  await app.register(twilioInboundRoutes, options);
  await app.register(telegramInboundRoutes, options);
};
