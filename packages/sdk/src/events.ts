import { SyncdeckError } from './errors.ts';
import { joinPath, parseUrl } from './http.ts';
import type { StoredEvent } from './outbox.ts';
import type { SendOptions } from './types.ts';

/** The paths the server takes events on; a URL ending in one is used as given. */
export const INGEST_PATHS = ['/functions/v1/sync', '/api/sync/events'] as const;

/**
 * The ingest URL for a base or full URL; throws `invalid_config` when it is not an http(s) URL.
 *
 * @example
 * ```ts
 * ingestUrl('https://hub.example.com'); // 'https://hub.example.com/functions/v1/sync'
 * ingestUrl('https://hub.example.com/api/sync/events'); // as given
 * ```
 */
export function ingestUrl(url: string): string {
  const parsed = parseUrl(url, 'url');
  const path = parsed.pathname.replace(/\/+$/, '');
  return INGEST_PATHS.some((p) => path.endsWith(p)) ? parsed.toString() : joinPath(parsed, INGEST_PATHS[0]);
}

/** The fields that name a chat, in the order the debounce looks for one. */
const CHAT_FIELDS = ['telegram_chat_id', 'whatsapp_phone', 'web_session_id', 'phone', 'syrve_customer_id'];

/**
 * The chat a `customer.seen` is about, for the debounce: the first identifying field it has.
 *
 * @example
 * ```ts
 * chatKey({ whatsapp_phone: '+966501234567', display_name: 'Sara' }); // 'whatsapp_phone:+966501234567'
 * ```
 */
export function chatKey(data: Record<string, unknown>): string | null {
  for (const field of CHAT_FIELDS) {
    const value = data[field];
    if (value !== undefined && value !== null && value !== '') return `${field}:${String(value)}`;
  }
  return null;
}

/**
 * An event as it is queued and sent, and its JSON. Throws `invalid_event` (the cause attached)
 * when the data cannot be serialised (a cycle, a BigInt) or `occurredAt` is an invalid date.
 *
 * @example
 * ```ts
 * const { stored, json } = storedEvent('order.status', { syrve_order_id: 'A-1', status: 'cooking' }, uuidv7());
 * ```
 */
export function storedEvent(
  event: string,
  data: unknown,
  eventId: string,
  options?: SendOptions,
): { stored: StoredEvent; json: string } {
  try {
    const occurred = options?.occurredAt ?? new Date();
    const stored: StoredEvent = {
      event,
      data,
      event_id: eventId,
      occurred_at: typeof occurred === 'string' ? occurred : occurred.toISOString(),
    };
    return { stored, json: JSON.stringify(stored) };
  } catch (cause) {
    throw new SyncdeckError('invalid_event', `${event}: the data cannot be sent as JSON`, { cause });
  }
}
