import type { ServerResponse } from 'node:http';
import { answer, drop, FaultQueue, LoopbackServer, type RecordedRequest } from './server.ts';

/** What the stand-in answers instead of the next call's result. */
export type TelegramFault =
  /** 429 with `parameters.retry_after`, as Telegram's flood control answers. */
  | { kind: 'rate-limited'; retryAfterSeconds: number }
  /** A Bot API error, e.g. `{ code: 403, description: 'Forbidden: bot was blocked by the user' }`. */
  | { kind: 'error'; code: number; description: string }
  /** 500 (or another 5xx) with the Bot API's error shape. */
  | { kind: 'server-error'; status?: number }
  /** The connection is closed with no answer. */
  | { kind: 'drop' };

/** A call the stand-in answered with ok. */
export interface TelegramCall {
  token: string;
  method: string;
  params: Record<string, unknown>;
  messageId?: number;
}

const BLOCKED = 'Forbidden: bot was blocked by the user';

/**
 * A stand-in for Telegram's Bot API on loopback (`/bot<token>/<method>`): it refuses unknown
 * tokens (401), checks each method's required parameters, answers `{ok, result}` or `{ok:false,
 * error_code, description, parameters?}` as Telegram does, plays scripted faults, and can post
 * updates to the webhook set with setWebhook, with its secret token header.
 *
 * @example
 * ```ts
 * const telegram = await FakeTelegram.start(['123456:ABC-token']);
 * telegram.block(42); // chat 42 blocked the bot: 403
 * const client = new TelegramClient({ baseUrl: telegram.url });
 * ```
 */
export class FakeTelegram {
  readonly calls: TelegramCall[] = [];
  /** Each token's webhook, as set with setWebhook. */
  readonly webhooks = new Map<string, { url: string; secretToken: string | null }>();
  private readonly faults = new FaultQueue<TelegramFault>();
  private readonly tokens = new Set<string>();
  private readonly blocked = new Set<string>();
  private nextMessageId = 1;
  private nextUpdateId = 1;

  private constructor(private readonly server: LoopbackServer) {}

  static async start(tokens: string[] = []): Promise<FakeTelegram> {
    let self: FakeTelegram | undefined;
    const server = await LoopbackServer.start((request, response) => self!.handle(request, response));
    self = new FakeTelegram(server);
    for (const token of tokens) self.addBot(token);
    return self;
  }

  /** The base URL to configure as TELEGRAM_API_BASE_URL. */
  get url(): string {
    return this.server.url;
  }

  get requests(): readonly RecordedRequest[] {
    return this.server.requests;
  }

  addBot(token: string): void {
    this.tokens.add(token);
  }

  /** Sends to this chat answer 403, as after the user blocked the bot. */
  block(chatId: string | number): void {
    this.blocked.add(String(chatId));
  }

  fail(...faults: TelegramFault[]): void {
    this.faults.push(...faults);
  }

  /**
   * Posts an Update (a text message from `chatId`) to the bot's webhook with its secret token
   * header, as Telegram does; answers the receiver's HTTP status.
   */
  async sendUpdate(token: string, chatId: number, text: string, firstName = 'Customer'): Promise<number> {
    const webhook = this.webhooks.get(token);
    if (!webhook) throw new Error('no webhook set for this bot');
    const update = {
      update_id: this.nextUpdateId++,
      message: {
        message_id: this.nextMessageId++,
        from: { id: chatId, is_bot: false, first_name: firstName, language_code: 'en' },
        chat: { id: chatId, first_name: firstName, type: 'private' },
        date: Math.floor(Date.now() / 1000),
        text,
      },
    };
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(webhook.secretToken ? { 'x-telegram-bot-api-secret-token': webhook.secretToken } : {}),
      },
      body: JSON.stringify(update),
    });
    await response.arrayBuffer();
    return response.status;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private error(response: ServerResponse, code: number, description: string, parameters?: object): void {
    answer(response, code, {
      ok: false,
      error_code: code,
      description,
      ...(parameters ? { parameters } : {}),
    });
  }

  private handle(request: RecordedRequest, response: ServerResponse) {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.path);
    if (!match) return this.error(response, 404, 'Not Found');
    const token = decodeURIComponent(match[1]!);
    const method = match[2]!;
    if (!this.tokens.has(token)) return this.error(response, 401, 'Unauthorized');
    const fault = this.faults.next();
    if (fault?.kind === 'drop') return drop(response);
    if (fault?.kind === 'rate-limited')
      return this.error(response, 429, `Too Many Requests: retry after ${fault.retryAfterSeconds}`, {
        retry_after: fault.retryAfterSeconds,
      });
    if (fault?.kind === 'error') return this.error(response, fault.code, fault.description);
    if (fault?.kind === 'server-error')
      return this.error(response, fault.status ?? 500, 'Internal Server Error');

    if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
      return this.error(response, 400, 'Bad Request: this stand-in takes JSON bodies');
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(request.body || '{}') as Record<string, unknown>;
    } catch {
      return this.error(response, 400, "Bad Request: can't parse JSON");
    }
    const ok = (result: unknown, messageId?: number) => {
      this.calls.push({ token, method, params, ...(messageId === undefined ? {} : { messageId }) });
      answer(response, 200, {
        ok: true,
        result,
        ...(method === 'setWebhook' ? { description: 'Webhook was set' } : {}),
      });
    };

    if (method === 'setWebhook') {
      if (typeof params.url !== 'string')
        return this.error(response, 400, 'Bad Request: bad webhook: URL is empty');
      const secret = params.secret_token;
      if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secret)))
        return this.error(response, 400, 'Bad Request: secret token contains unallowed characters');
      this.webhooks.set(token, { url: params.url, secretToken: typeof secret === 'string' ? secret : null });
      return ok(true);
    }
    if (method !== 'sendMessage' && method !== 'sendPhoto') return this.error(response, 404, 'Not Found');
    const chatId = params.chat_id;
    if (chatId === undefined || chatId === '')
      return this.error(response, 400, 'Bad Request: chat_id is empty');
    if (this.blocked.has(String(chatId))) return this.error(response, 403, BLOCKED);
    if (method === 'sendMessage' && (typeof params.text !== 'string' || params.text === ''))
      return this.error(response, 400, 'Bad Request: message text is empty');
    if (method === 'sendPhoto' && typeof params.photo !== 'string')
      return this.error(response, 400, 'Bad Request: there is no photo in the request');

    const messageId = this.nextMessageId++;
    const id = Number(chatId);
    ok(
      {
        message_id: messageId,
        from: {
          id: Number(token.split(':')[0]) || 1,
          is_bot: true,
          first_name: 'Bot',
          username: 'syncdeck_bot',
        },
        chat: { id, first_name: 'Customer', type: 'private' },
        date: Math.floor(Date.now() / 1000),
        ...(method === 'sendMessage'
          ? { text: params.text }
          : {
              photo: [
                {
                  file_id: `photo${messageId}`,
                  file_unique_id: `u${messageId}`,
                  width: 320,
                  height: 320,
                  file_size: 1024,
                },
              ],
              ...(typeof params.caption === 'string' ? { caption: params.caption } : {}),
            }),
      },
      messageId,
    );
  }
}
