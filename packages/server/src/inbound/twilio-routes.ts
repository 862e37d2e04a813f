import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authTokenContext } from '../bots/index.ts';
import { parseTwilioInbound, type TwilioParams, verifyTwilioSignature } from '../channels/index.ts';
import { registerFormBody } from '../http/form-body.ts';
import { errorResponses } from '../http/schemas.ts';
import type { GroupCommitWriter } from '../ingest/index.ts';
import { AppError } from '../lib/errors.ts';
import { normalisePhone } from '../lib/phones.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { type TwilioSenderRow, twilioSendersByNumber } from './store.ts';
import { storeInbound } from './write.ts';

/** Twilio's "received, nothing to send back": the message is answered, if at all, through the API. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * One answer for an unknown number and a bad signature alike, so a caller probing the route
 * learns nothing about which numbers are registered or which part was wrong.
 */
const refused = () => AppError.forbidden('The request is not signed by a registered sender');

/** The form's fields as Twilio's signature covers them; null when a value is not text. */
function formParams(body: unknown): TwilioParams | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') return null;
    params[name] = value;
  }
  return params;
}

export const twilioInboundRoutes: FastifyPluginAsyncZod<{
  writer: GroupCommitWriter;
  secrets: SecretBox;
}> = async (app, { writer, secrets }) => {
  const { db, config } = app;
  // Form bodies in this plugin only: everywhere else the API stays JSON-only.
  registerFormBody(app);

  /**
   * The sender this request is for, when its auth token signed it. `To` finds the registered
   * senders with that number; across tenants the request's AccountSid picks among them, and
   * should two tenants share one account's number, the earliest registration receives it.
   */
  async function signedSender(params: TwilioParams, url: string, signature: unknown) {
    const to = typeof params.To === 'string' ? params.To.replace(/^whatsapp:/i, '') : '';
    const number = to ? normalisePhone(to, config.phoneDefaultRegion) : null;
    if (!number) return null;
    const accountSid = typeof params.AccountSid === 'string' ? params.AccountSid : undefined;
    const candidates = (await twilioSendersByNumber(db, number)).filter(
      (row) => accountSid === undefined || row.account_sid === accountSid,
    );
    const header = typeof signature === 'string' ? signature : undefined;
    for (const row of candidates) {
      const token = secrets.open(row.auth_token_encrypted, authTokenContext(row.tenant_id));
      if (verifyTwilioSignature(token, url, params, header)) return row;
    }
    return null;
  }

  app.post(
    '/api/channels/twilio/whatsapp',
    {
      schema: {
        tags: ['channels'],
        summary: "Twilio's inbound WhatsApp webhook",
        description:
          "Form-encoded, as Twilio sends it. `X-Twilio-Signature` must be Twilio's signature of `PUBLIC_URL` + this " +
          "path (and query) and the form's fields, with the auth token of the sender `To` names; otherwise 403. " +
          'The message is stored like an ingested `message.created`; a redelivered `MessageSid` is stored once. ' +
          'Answers empty TwiML.',
        body: z.record(z.string(), z.unknown()),
        response: {
          200: z.string().describe('Empty TwiML, `text/xml`'),
          ...errorResponses(400, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const params = formParams(request.body);
      // request.url is the path and query exactly as Twilio called them.
      const url = `${config.publicUrl}${request.url}`;
      let sender: TwilioSenderRow | null = null;
      if (params) sender = await signedSender(params, url, request.headers['x-twilio-signature']);
      if (!params || !sender) {
        request.log.warn({ to: params?.To }, 'Twilio webhook refused: unknown sender or bad signature');
        throw refused();
      }
      const outcome = await storeInbound(
        writer,
        config,
        { tenantId: sender.tenant_id, id: sender.id },
        parseTwilioInbound(params),
      );
      request.log.info({ botId: sender.id, outcome }, 'Twilio message received');
      return reply.type('text/xml; charset=utf-8').send(EMPTY_TWIML);
    },
  );
};
