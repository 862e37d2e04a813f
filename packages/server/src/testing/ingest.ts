import type { FastifyInstance } from 'fastify';
import { bearer } from './harness.ts';

/** Pushes events through the ingest API, as a bot would, and fails loudly if one is not accepted. */
export async function ingest(t: { app: FastifyInstance }, token: string, events: object[]): Promise<void> {
  for (let start = 0; start < events.length; start += 1000) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/sync/events',
      headers: bearer(token),
      payload: { events: events.slice(start, start + 1000) },
    });
    const body = response.json();
    if (response.statusCode !== 200 || body.rejected > 0) {
      throw new Error(`ingest failed: ${response.statusCode} ${response.body.slice(0, 500)}`);
    }
  }
}

let counter = 0;
/** A fresh, valid Saudi mobile number per call (E.164), so tests do not share customers. */
export function newPhone(): string {
  counter += 1;
  return `+9665${String(20_000_000 + counter * 7907).slice(-8)}`;
}

export const BOT_NUMBER = 'whatsapp:+966508034010';

/** A `message.created` event as the seed's bot sends it. */
export function message(
  phone: string,
  content: string,
  at: string,
  extra: { direction?: 'IN' | 'OUT'; name?: string; bot?: string; waSid?: string } = {},
): object {
  return {
    event: 'message.created',
    occurred_at: at,
    data: {
      customer_identifier: { whatsapp_phone: `whatsapp:${phone}` },
      ...(extra.name ? { customer_name: extra.name } : {}),
      bot: { whatsapp_number: extra.bot ?? BOT_NUMBER },
      direction: extra.direction ?? 'IN',
      message_type: 'text',
      content,
      ...(extra.waSid ? { wa_sid: extra.waSid } : {}),
      metadata: { fromPhone: `whatsapp:${phone}`, toPhone: extra.bot ?? BOT_NUMBER },
    },
  };
}

/** An `order.created` event for the customer with this phone, with no items. */
export function orderCreated(phone: string, id: string, at: string, total: number): object {
  return {
    event: 'order.created',
    occurred_at: at,
    data: { customer_identifier: { whatsapp_phone: phone }, syrve_order_id: id, items: [], total },
  };
}

/** An `order.status` event. */
export function orderStatus(id: string, status: string, at: string): object {
  return { event: 'order.status', occurred_at: at, data: { syrve_order_id: id, status } };
}
