import { describe, expect, it } from 'vitest';
import { prepareEvent } from '../ingest/prepare.ts';
import { InvalidChannelRequest } from './inbound-error.ts';
import { messageTypeOfContentType, parseTwilioInbound, parseTwilioStatusCallback } from './twilio-inbound.ts';

const SID = 'SM0123456789abcdef0123456789abcdef';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

/** A text message as Twilio posts it for WhatsApp (its documented fields, empty ones included). */
const textWebhook = {
  SmsMessageSid: SID,
  NumMedia: '0',
  ProfileName: 'Sara',
  MessageType: 'text',
  SmsSid: SID,
  WaId: '966501234567',
  SmsStatus: 'received',
  Body: 'Two shawarma please',
  To: 'whatsapp:+966508034010',
  NumSegments: '1',
  ReferralNumMedia: '0',
  MessageSid: SID,
  AccountSid: ACCOUNT,
  From: 'whatsapp:+966501234567',
  ApiVersion: '2010-04-01',
};

/** Twilio's own details, as a 400 would list them. */
function detailsOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidChannelRequest);
    const invalid = error as InvalidChannelRequest;
    expect(invalid.code).toBe('validation_failed');
    expect(invalid.provider).toBe('twilio');
    return invalid.details;
  }
  throw new Error('expected InvalidChannelRequest');
}

describe('parseTwilioInbound', () => {
  it('turns a text message into the message.created event ingest accepts', () => {
    const inbound = parseTwilioInbound(textWebhook);
    expect(inbound).toEqual({
      event: 'message.created',
      event_id: `twilio:${SID}`,
      data: {
        customer_identifier: { whatsapp_phone: '+966501234567' },
        customer_name: 'Sara',
        bot: { whatsapp_number: '+966508034010' },
        direction: 'IN',
        message_type: 'text',
        content: 'Two shawarma please',
        wa_sid: SID,
        metadata: { channel: 'whatsapp', provider: 'twilio', account_sid: ACCOUNT, wa_id: '966501234567' },
        sender: { type: 'customer' },
      },
    });
    const prepared = prepareEvent(inbound, 'tenant', 'SA', new Date());
    expect(prepared.name).toBe('message.created');
    if (prepared.name !== 'message.created') return;
    expect(prepared.bot).toEqual({ channel: 'whatsapp', address: '+966508034010' });
    expect(prepared.customer.whatsappPhone).toBe('+966501234567');
  });

  it('takes the media: the first is media_url and type, every one is in metadata', () => {
    const inbound = parseTwilioInbound({
      ...textWebhook,
      Body: '',
      NumMedia: '2',
      MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages/${SID}/Media/ME1`,
      MediaContentType0: 'image/jpeg',
      MediaUrl1: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages/${SID}/Media/ME2`,
      MediaContentType1: 'application/pdf',
    });
    expect(inbound.data.message_type).toBe('image');
    expect(inbound.data.content).toBe('');
    expect(inbound.data.media_url).toMatch(/Media\/ME1$/);
    expect(inbound.data.metadata?.media).toEqual([
      { url: expect.stringMatching(/ME1$/), content_type: 'image/jpeg' },
      { url: expect.stringMatching(/ME2$/), content_type: 'application/pdf' },
    ]);
    expect(() => prepareEvent(inbound, 't', 'SA', new Date())).not.toThrow();
  });

  it('names the message type from the content type', () => {
    expect(messageTypeOfContentType('image/webp')).toBe('image');
    expect(messageTypeOfContentType('audio/ogg')).toBe('audio');
    expect(messageTypeOfContentType('VIDEO/mp4')).toBe('video');
    expect(messageTypeOfContentType('application/pdf')).toBe('document');
    expect(messageTypeOfContentType(undefined)).toBe('document');
  });

  it('keeps a shared location, with a readable content when there is no body', () => {
    const inbound = parseTwilioInbound({
      ...textWebhook,
      Body: '',
      MessageType: 'location',
      Latitude: '24.7136',
      Longitude: '46.6753',
      Address: 'Riyadh',
    });
    expect(inbound.data.message_type).toBe('location');
    expect(inbound.data.content).toBe('Riyadh');
    expect(inbound.data.metadata?.location).toEqual({
      latitude: 24.7136,
      longitude: 46.6753,
      address: 'Riyadh',
    });
  });

  it('keeps a quick-reply button and the message it answers', () => {
    const inbound = parseTwilioInbound({
      ...textWebhook,
      ButtonText: 'Confirm',
      ButtonPayload: 'confirm_order_42',
      OriginalRepliedMessageSid: 'SMffffffffffffffffffffffffffffffff',
    });
    expect(inbound.data.metadata?.button).toEqual({ text: 'Confirm', payload: 'confirm_order_42' });
    expect(inbound.data.metadata?.in_reply_to).toBe('SMffffffffffffffffffffffffffffffff');
  });

  it('treats empty optional fields as absent', () => {
    const inbound = parseTwilioInbound({
      ...textWebhook,
      ProfileName: '',
      WaId: '',
      AccountSid: '',
      NumMedia: '',
    });
    expect(inbound.data.customer_name).toBeUndefined();
    expect(inbound.data.metadata).toEqual({ channel: 'whatsapp', provider: 'twilio' });
    const { Body: _body, ...noBody } = textWebhook;
    expect(parseTwilioInbound(noBody).data.content).toBe('');
  });

  it('refuses a malformed request, naming every wrong field', () => {
    const details = detailsOf(() =>
      parseTwilioInbound({
        ...textWebhook,
        MessageSid: 'nope',
        From: '+966501234567',
        NumMedia: '1',
        MediaUrl0: 'javascript:alert(1)',
        MediaContentType0: 'nonsense',
        Body: 'a\u0000b',
        Latitude: '24.7',
      }),
    );
    expect(details.map((d) => d.path).sort()).toEqual(
      ['Body', 'From', 'Latitude', 'MediaContentType0', 'MediaUrl0', 'MessageSid'].sort(),
    );
  });

  it('refuses missing fields, a repeated field, and too many media', () => {
    expect(
      detailsOf(() => parseTwilioInbound({}))
        .map((d) => d.path)
        .sort(),
    ).toEqual(['From', 'MessageSid', 'To']);
    expect(detailsOf(() => parseTwilioInbound({ ...textWebhook, Body: ['a', 'b'] }))).toEqual([
      { path: 'Body', message: 'must be given once' },
    ]);
    expect(
      detailsOf(() => parseTwilioInbound({ ...textWebhook, NumMedia: '11' })).map((d) => d.path),
    ).toContain('NumMedia');
    expect(detailsOf(() => parseTwilioInbound({ ...textWebhook, NumMedia: '1' })).map((d) => d.path)).toEqual(
      ['MediaUrl0'],
    );
  });

  it('takes a field given once as a one-item list, as a form parser may give it', () => {
    expect(parseTwilioInbound({ ...textWebhook, Body: ['hi'] }).data.content).toBe('hi');
  });
});

describe('parseTwilioStatusCallback', () => {
  const callback = {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    From: 'whatsapp:+966508034010',
    MessageSid: SID,
    SmsSid: SID,
    SmsStatus: 'delivered',
    MessageStatus: 'delivered',
    To: 'whatsapp:+966501234567',
  };

  it('reads each of Twilio’s statuses into ours', () => {
    const expected: Record<string, string> = {
      accepted: 'queued',
      scheduled: 'queued',
      queued: 'queued',
      sending: 'sending',
      sent: 'sent',
      delivered: 'delivered',
      read: 'read',
      failed: 'failed',
      undelivered: 'undelivered',
      canceled: 'failed',
    };
    for (const [twilio, ours] of Object.entries(expected)) {
      const update = parseTwilioStatusCallback({ ...callback, MessageStatus: twilio });
      expect(update).toMatchObject({ kind: 'status', status: ours, twilioStatus: twilio, messageSid: SID });
    }
  });

  it('keeps a failure’s code with a readable reason, and drops codes on success', () => {
    expect(parseTwilioStatusCallback({ ...callback, MessageStatus: 'failed', ErrorCode: '63016' })).toEqual({
      kind: 'status',
      messageSid: SID,
      accountSid: ACCOUNT,
      status: 'failed',
      twilioStatus: 'failed',
      errorCode: '63016',
      errorReason:
        "Outside WhatsApp's 24-hour window: the customer must write first, or a template is needed",
    });
    expect(
      parseTwilioStatusCallback({
        ...callback,
        MessageStatus: 'undelivered',
        ErrorCode: '1',
        ErrorMessage: 'Odd',
      }),
    ).toMatchObject({ errorCode: '1', errorReason: 'Odd' });
    expect(parseTwilioStatusCallback({ ...callback, ErrorCode: '30008' })).toMatchObject({
      status: 'delivered',
      errorCode: null,
      errorReason: null,
    });
  });

  it('ignores statuses that are not about delivery, and refuses malformed callbacks', () => {
    expect(parseTwilioStatusCallback({ ...callback, MessageStatus: 'receiving' })).toEqual({
      kind: 'ignored',
      messageSid: SID,
      twilioStatus: 'receiving',
    });
    expect(
      detailsOf(() => parseTwilioStatusCallback({ MessageStatus: '', ErrorCode: 'x' }))
        .map((d) => d.path)
        .sort(),
    ).toEqual(['ErrorCode', 'MessageSid', 'MessageStatus']);
  });
});
