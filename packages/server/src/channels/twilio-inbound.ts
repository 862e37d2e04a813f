/*
 * Twilio's requests to Syncdeck, read into Syncdeck's terms: an inbound WhatsApp message becomes
 * the ingest API's `message.created` event, and a status callback becomes a delivery report.
 * Pure: the route checks the signature first (verifyTwilioSignature) and stores the result.
 */
import { type SyncEventData, storableString } from '@syncdeck/core';
import { z } from 'zod';
import { detailsFromZod } from '../lib/errors.ts';
import { isFailedDelivery, type MessageDeliveryStatus } from './delivery-status.ts';
import { InvalidChannelRequest } from './inbound-error.ts';
import { type TwilioParams, twilioErrorReason } from './twilio.ts';

const text = (max: number) => storableString().trim().min(1).max(max);
/** Twilio sends an empty field for what it does not know (`ProfileName=`): that is absent. */
const blankIsAbsent = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

/** `whatsapp:+9665…`: the channel prefix is what makes it a WhatsApp request and not an SMS. */
const whatsappAddress = text(80).regex(
  /^whatsapp:\+?[0-9]{6,20}$/i,
  'must be a WhatsApp address, whatsapp:+…',
);
const sid = (prefix: string) =>
  text(64).regex(new RegExp(`^${prefix}[0-9A-Za-z]{8,}$`), `must be a Twilio SID (${prefix}…)`);
const count = z
  .string()
  .regex(/^[0-9]{1,2}$/, 'must be a number from 0 to 99')
  .transform(Number);

/** The largest media count Twilio sends in one message (10 for MMS; WhatsApp sends one). */
const MAX_MEDIA = 10;

const inboundSchema = z
  .looseObject({
    MessageSid: sid('(?:SM|MM|IM)'),
    AccountSid: blankIsAbsent(sid('AC')),
    From: whatsappAddress,
    To: whatsappAddress,
    Body: storableString().max(10_000).optional().default(''),
    NumMedia: blankIsAbsent(count).default(0),
    ProfileName: blankIsAbsent(text(200)),
    WaId: blankIsAbsent(text(40).regex(/^[0-9]+$/, 'must be digits')),
    Latitude: blankIsAbsent(z.coerce.number().min(-90).max(90)),
    Longitude: blankIsAbsent(z.coerce.number().min(-180).max(180)),
    Address: blankIsAbsent(text(500)),
    Label: blankIsAbsent(text(500)),
    ButtonText: blankIsAbsent(text(500)),
    ButtonPayload: blankIsAbsent(text(1000)),
    OriginalRepliedMessageSid: blankIsAbsent(text(64)),
  })
  .superRefine((p, ctx) => {
    if (p.NumMedia > MAX_MEDIA)
      ctx.addIssue({ code: 'custom', path: ['NumMedia'], message: `must be at most ${MAX_MEDIA}` });
    for (let i = 0; i < Math.min(p.NumMedia, MAX_MEDIA); i++) {
      const url = storableString()
        .url()
        .max(2000)
        .regex(/^https?:/i)
        .safeParse(p[`MediaUrl${i}`]);
      if (!url.success)
        ctx.addIssue({
          code: 'custom',
          path: [`MediaUrl${i}`],
          message: 'must be the http(s) URL of the media',
        });
      const type = p[`MediaContentType${i}`];
      if (type !== undefined && (typeof type !== 'string' || !/^[\w.+-]+\/[\w.+-]+/.test(type)))
        ctx.addIssue({ code: 'custom', path: [`MediaContentType${i}`], message: 'must be a MIME type' });
    }
    if ((p.Latitude === undefined) !== (p.Longitude === undefined))
      ctx.addIssue({ code: 'custom', path: ['Latitude'], message: 'Latitude and Longitude come together' });
  });

/**
 * Each field once, as text. A name given twice is refused rather than guessed at: Twilio never
 * repeats one in these requests, so a repeated field is a forged or mangled request.
 */
function singleValues(params: TwilioParams): { values: Record<string, string>; twice: string[] } {
  const values: Record<string, string> = {};
  const twice: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === 'string') values[name] = value;
    else if (value.length === 1) values[name] = value[0]!;
    else twice.push(name);
  }
  return { values, twice };
}

function parseParams<S extends z.ZodType>(schema: S, params: TwilioParams): z.output<S> {
  const { values, twice } = singleValues(params);
  const parsed = schema.safeParse(values);
  const details = twice.map((name) => ({ path: name, message: 'must be given once' }));
  if (parsed.success && details.length === 0) return parsed.data;
  throw new InvalidChannelRequest('twilio', [
    ...details,
    ...(parsed.success ? [] : detailsFromZod(parsed.error)),
  ]);
}

/**
 * A message type from a media content type: the types the dashboard knows how to show.
 *
 * @example
 * ```ts
 * messageTypeOfContentType('audio/ogg'); // 'audio'
 * messageTypeOfContentType('application/pdf'); // 'document'
 * ```
 */
export function messageTypeOfContentType(
  contentType: string | undefined,
): 'image' | 'audio' | 'video' | 'document' {
  const major = contentType?.split('/')[0]?.toLowerCase();
  if (major === 'image' || major === 'audio' || major === 'video') return major;
  return 'document';
}

/** The ingest API's `message.created` event, as a provider's inbound message becomes one. */
export interface InboundMessageEvent {
  event: 'message.created';
  /** The ingest event id: a redelivered provider request is applied once. */
  event_id: string;
  /** When the provider says the message was written; absent when it does not say (Twilio). */
  occurred_at?: string;
  data: SyncEventData<'message.created'>;
}

const noPrefix = (address: string) => address.replace(/^whatsapp:/i, '');

/**
 * Reads Twilio's inbound WhatsApp webhook (its form fields, as parsed) into the `message.created`
 * event ingest stores. The customer is `From`, the bot the sender number `To`; `wa_sid` is the
 * MessageSid, so a redelivered webhook is stored once, and the event id is `twilio:<MessageSid>`.
 * The first media is the message's `media_url` and type; every media is in `metadata.media`.
 * Twilio's media URLs may require the account's credentials to fetch (when media HTTP auth is
 * on): whoever shows them fetches through the server, never with credentials in the URL.
 * Throws InvalidChannelRequest with each wrong field's name.
 *
 * @example
 * ```ts
 * const inbound = parseTwilioInbound({ MessageSid: 'SM…', From: 'whatsapp:+966501234567',
 *   To: 'whatsapp:+966508034010', Body: 'Hello', NumMedia: '0', ProfileName: 'Sara' });
 * // inbound.data.customer_identifier.whatsapp_phone === '+966501234567'
 * ```
 */
export function parseTwilioInbound(params: TwilioParams): InboundMessageEvent {
  const p = parseParams(inboundSchema, params);
  const media = Array.from({ length: p.NumMedia }, (_, i) => {
    const contentType = p[`MediaContentType${i}`] as string | undefined;
    return { url: p[`MediaUrl${i}`] as string, ...(contentType ? { content_type: contentType } : {}) };
  });
  const location = p.Latitude !== undefined && p.Longitude !== undefined;
  const messageType = media[0]
    ? messageTypeOfContentType(media[0].content_type)
    : location
      ? 'location'
      : 'text';
  const metadata: Record<string, unknown> = {
    channel: 'whatsapp',
    provider: 'twilio',
    ...(p.AccountSid ? { account_sid: p.AccountSid } : {}),
    ...(p.WaId ? { wa_id: p.WaId } : {}),
    ...(media.length > 0 ? { media } : {}),
    ...(location
      ? {
          location: {
            latitude: p.Latitude,
            longitude: p.Longitude,
            ...(p.Address ? { address: p.Address } : {}),
            ...(p.Label ? { label: p.Label } : {}),
          },
        }
      : {}),
    ...(p.ButtonPayload || p.ButtonText
      ? {
          button: {
            ...(p.ButtonText ? { text: p.ButtonText } : {}),
            ...(p.ButtonPayload ? { payload: p.ButtonPayload } : {}),
          },
        }
      : {}),
    ...(p.OriginalRepliedMessageSid ? { in_reply_to: p.OriginalRepliedMessageSid } : {}),
  };
  return {
    event: 'message.created',
    event_id: `twilio:${p.MessageSid}`,
    data: {
      customer_identifier: { whatsapp_phone: noPrefix(p.From) },
      ...(p.ProfileName ? { customer_name: p.ProfileName } : {}),
      bot: { whatsapp_number: noPrefix(p.To) },
      direction: 'IN',
      message_type: messageType,
      // A location without a caption would otherwise be an empty bubble in the transcript.
      content:
        p.Body || (location && !media[0] ? (p.Address ?? p.Label ?? `${p.Latitude},${p.Longitude}`) : ''),
      ...(media[0] ? { media_url: media[0].url } : {}),
      wa_sid: p.MessageSid,
      metadata,
      sender: { type: 'customer' },
    },
  };
}

/** Twilio's message statuses and what each reports; the ones without an entry are not ours. */
const TWILIO_STATUSES: Readonly<Record<string, MessageDeliveryStatus>> = {
  // With a Messaging Service a message starts `accepted` (or `scheduled`), before `queued`.
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
  undelivered: 'undelivered',
  // A scheduled message canceled before it went: it will never reach the customer.
  canceled: 'failed',
};

const statusSchema = z.looseObject({
  MessageSid: sid('(?:SM|MM)'),
  AccountSid: blankIsAbsent(sid('AC')),
  MessageStatus: text(40).transform((s) => s.toLowerCase()),
  ErrorCode: blankIsAbsent(text(20).regex(/^[0-9]+$/, 'must be a Twilio error code')),
  ErrorMessage: blankIsAbsent(text(1000)),
});

/** A status callback about one of our outbound messages, as a delivery report. */
export interface TwilioStatusUpdate {
  kind: 'status';
  /** Our message's `wa_sid` (the outbox stored it as the delivery's provider id). */
  messageSid: string;
  accountSid: string | null;
  status: MessageDeliveryStatus;
  /** Twilio's own word, for the log (`accepted` and `canceled` are reported as others). */
  twilioStatus: string;
  /** For a failure: Twilio's code and a readable reason; null otherwise. */
  errorCode: string | null;
  errorReason: string | null;
}

/** A callback with a status that says nothing about delivery (`receiving`, a status Twilio adds later). */
export interface IgnoredTwilioStatus {
  kind: 'ignored';
  messageSid: string;
  twilioStatus: string;
}

/**
 * Reads a Twilio status callback (`MessageSid`, `MessageStatus`, `ErrorCode`, `ErrorMessage`)
 * into a delivery report for `applyDeliveryReport`. A status outside Twilio's outbound lifecycle
 * is `ignored` (answered 200 all the same, so Twilio does not retry it); a malformed request
 * throws InvalidChannelRequest.
 *
 * @example
 * ```ts
 * const update = parseTwilioStatusCallback({ MessageSid: 'SM…', MessageStatus: 'undelivered', ErrorCode: '30008' });
 * // { kind: 'status', status: 'undelivered', errorCode: '30008', errorReason: 'Delivery failed for an unknown reason', … }
 * ```
 */
export function parseTwilioStatusCallback(params: TwilioParams): TwilioStatusUpdate | IgnoredTwilioStatus {
  const p = parseParams(statusSchema, params);
  const status = TWILIO_STATUSES[p.MessageStatus];
  if (!status) return { kind: 'ignored', messageSid: p.MessageSid, twilioStatus: p.MessageStatus };
  const failed = isFailedDelivery(status);
  const errorCode = failed ? (p.ErrorCode ?? null) : null;
  const errorReason = !failed
    ? null
    : errorCode || p.ErrorMessage
      ? twilioErrorReason(errorCode, p.ErrorMessage)
      : p.MessageStatus === 'canceled'
        ? 'The scheduled message was canceled'
        : null;
  return {
    kind: 'status',
    messageSid: p.MessageSid,
    accountSid: p.AccountSid ?? null,
    status,
    twilioStatus: p.MessageStatus,
    errorCode,
    errorReason,
  };
}
