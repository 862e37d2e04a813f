import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { twilioSignature } from '../../channels/index.ts';
import { answer, drop, FaultQueue, LoopbackServer, type RecordedRequest } from './server.ts';

export interface FakeTwilioAccount {
  accountSid: string;
  authToken: string;
}

/** What the stand-in answers instead of accepting the next message. */
export type TwilioFault =
  /** 429 with Twilio's 20429 body, and Retry-After when given. */
  | { kind: 'rate-limited'; retryAfterSeconds?: number }
  /** 500 (or another 5xx) with Twilio's error body. */
  | { kind: 'server-error'; status?: number }
  /** A Twilio error body, e.g. `{ status: 400, code: 21211 }`. */
  | { kind: 'error'; status: number; code: number; message?: string }
  /** The connection is closed with no answer. */
  | { kind: 'drop' };

/** A message the stand-in accepted, with its form fields as Twilio received them. */
export interface AcceptedTwilioMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
}

const ERROR_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20429: 'Too Many Requests',
  20500: 'Internal Server Error',
  21211: "The 'To' number is not a valid phone number.",
  21602: 'Message body is required.',
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21610: 'Attempt to send to unsubscribed recipient',
  63016:
    'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
};

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * A stand-in for Twilio's Messages API on loopback: it checks what a real account would (Basic
 * auth matching the Account SID in the path, the form fields), answers with Twilio's shapes —
 * the Message resource on 201, `{code, message, more_info, status}` on errors — and plays
 * scripted faults. It can also post signed status callbacks, as Twilio does.
 *
 * @example
 * ```ts
 * const twilio = await FakeTwilio.start([{ accountSid: 'AC…', authToken: 'secret' }]);
 * twilio.fail({ kind: 'rate-limited', retryAfterSeconds: 1 }, { kind: 'drop' });
 * const client = new TwilioClient({ baseUrl: twilio.url });
 * ```
 */
export class FakeTwilio {
  readonly messages: AcceptedTwilioMessage[] = [];
  private readonly faults = new FaultQueue<TwilioFault>();
  private readonly accounts = new Map<string, string>();

  private constructor(private readonly server: LoopbackServer) {}

  static async start(accounts: FakeTwilioAccount[] = []): Promise<FakeTwilio> {
    let self: FakeTwilio | undefined;
    const server = await LoopbackServer.start((request, response) => self!.handle(request, response));
    self = new FakeTwilio(server);
    for (const account of accounts) self.addAccount(account);
    return self;
  }

  /** The base URL to configure as TWILIO_API_BASE_URL. */
  get url(): string {
    return this.server.url;
  }

  /** Every request received, accepted or not. */
  get requests(): readonly RecordedRequest[] {
    return this.server.requests;
  }

  addAccount(account: FakeTwilioAccount): void {
    this.accounts.set(account.accountSid, account.authToken);
  }

  /** The next requests get these answers, in order. */
  fail(...faults: TwilioFault[]): void {
    this.faults.push(...faults);
  }

  /**
   * Posts a status callback for an accepted message to its StatusCallback, form-encoded and
   * signed with X-Twilio-Signature as Twilio does; answers the receiver's HTTP status.
   */
  async sendStatus(sid: string, status: string, errorCode?: number): Promise<number> {
    const message = this.messages.find((m) => m.sid === sid);
    if (!message?.statusCallback) throw new Error(`no status callback for ${sid}`);
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: '2010-04-01',
      From: message.from,
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: message.to,
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
    };
    const token = this.accounts.get(message.accountSid)!;
    const response = await fetch(message.statusCallback, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(token, message.statusCallback, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    await response.arrayBuffer();
    return response.status;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private error(
    response: ServerResponse,
    status: number,
    code: number,
    message?: string,
    headers = {},
  ): void {
    answer(
      response,
      status,
      {
        code,
        message: message ?? ERROR_MESSAGES[code] ?? 'Error',
        more_info: `https://www.twilio.com/docs/errors/${code}`,
        status,
      },
      headers,
    );
  }

  private handle(request: RecordedRequest, response: ServerResponse) {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.path);
    if (!match) return this.error(response, 404, 20404, 'The requested resource was not found');
    if (request.method !== 'POST') return this.error(response, 405, 20004, 'Method not allowed');
    const accountSid = decodeURIComponent(match[1]!);
    const auth = String(request.headers.authorization ?? '');
    const [user, password] = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':', 2)
      : [];
    const token = this.accounts.get(accountSid);
    if (!token || user !== accountSid || password !== token) return this.error(response, 401, 20003);
    const fault = this.faults.next();
    if (fault?.kind === 'drop') return drop(response);
    if (fault?.kind === 'rate-limited')
      return this.error(
        response,
        429,
        20429,
        undefined,
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    if (fault?.kind === 'server-error') return this.error(response, fault.status ?? 500, 20500);
    if (fault?.kind === 'error') return this.error(response, fault.status, fault.code, fault.message);

    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return this.error(response, 400, 20001, 'Content-Type must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body);
    const to = form.get('To');
    const from = form.get('From');
    const body = form.get('Body') ?? '';
    const mediaUrls = form.getAll('MediaUrl');
    if (!to) return this.error(response, 400, 21604);
    if (!from) return this.error(response, 400, 21603);
    if (!body && mediaUrls.length === 0) return this.error(response, 400, 21602);
    if (!/^(whatsapp:)?\+[1-9]\d{6,14}$/.test(to))
      return this.error(response, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);

    const sid = `SM${hex(16)}`;
    const message: AcceptedTwilioMessage = {
      sid,
      accountSid,
      to,
      from,
      body,
      mediaUrls,
      statusCallback: form.get('StatusCallback'),
    };
    this.messages.push(message);
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
    answer(response, 201, {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from,
      messaging_service_sid: null,
      num_media: String(mediaUrls.length),
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      subresource_uris: { media: uri.replace('.json', '/Media.json') },
      to,
      uri,
    });
  }
}
