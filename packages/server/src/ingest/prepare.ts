import {
  type ErrorDetail,
  type ParsedSyncEventData,
  type SyncEventName,
  syncEnvelopeSchema,
  syncEventNames,
  syncEventSchemas,
} from '@syncdeck/core';
import { detailsFromZod } from '../lib/errors.ts';
import { normalisePhone } from '../lib/phones.ts';

/** How a customer is found. Phones from any field share one kind: the same number is the same person. */
export interface Identity {
  kind: 'syrve' | 'phone' | 'telegram' | 'web';
  value: string;
}

export interface CustomerRef {
  identities: Identity[];
  whatsappPhone: string | null;
  phone: string | null;
}

export interface BotRef {
  id?: string;
  channel?: 'whatsapp' | 'telegram' | 'web';
  address?: string;
}

interface Base<E extends SyncEventName> {
  name: E;
  tenantId: string;
  eventId: string | null;
  occurredAt: Date;
  data: ParsedSyncEventData<E>;
}

/** An event that passed validation, with its phones normalised and its references resolved to keys. */
export type PreparedEvent =
  | (Base<'customer.seen'> & { customer: CustomerRef })
  | (Base<'order.created'> & { customer: CustomerRef })
  | Base<'order.status'>
  | (Base<'escalation.created'> & { customer: CustomerRef })
  | (Base<'escalation.resolved'> & { customer: CustomerRef })
  | (Base<'message.created'> & { customer: CustomerRef; bot: BotRef })
  | (Base<'conversation.closed'> & { customer: CustomerRef | null; bot: BotRef | null });

export class EventRejected extends Error {
  constructor(readonly details: ErrorDetail[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join('; '));
  }
}

interface IdentifierFields {
  whatsapp_phone?: string | undefined;
  phone?: string | undefined;
  telegram_chat_id?: string | undefined;
  syrve_customer_id?: string | undefined;
  web_session_id?: string | undefined;
}

function customerRef(fields: IdentifierFields, path: string, region: string): CustomerRef {
  const problems: ErrorDetail[] = [];
  const phoneOf = (key: 'whatsapp_phone' | 'phone') => {
    const raw = fields[key];
    if (raw === undefined) return null;
    const e164 = normalisePhone(raw, region);
    if (!e164) problems.push({ path: `${path}.${key}`, message: `"${raw}" is not a phone number` });
    return e164;
  };
  const whatsappPhone = phoneOf('whatsapp_phone');
  const phone = phoneOf('phone');
  if (problems.length > 0) throw new EventRejected(problems);
  const identities: Identity[] = [];
  if (fields.syrve_customer_id) identities.push({ kind: 'syrve', value: fields.syrve_customer_id });
  for (const value of new Set([whatsappPhone, phone])) if (value) identities.push({ kind: 'phone', value });
  if (fields.telegram_chat_id) identities.push({ kind: 'telegram', value: fields.telegram_chat_id });
  if (fields.web_session_id) identities.push({ kind: 'web', value: fields.web_session_id });
  return { identities, whatsappPhone, phone };
}

function botRef(
  bot: {
    id?: string | undefined;
    whatsapp_number?: string | undefined;
    telegram_bot_id?: string | undefined;
    web_widget_id?: string | undefined;
  },
  path: string,
  region: string,
): BotRef {
  if (bot.id) return { id: bot.id };
  if (bot.whatsapp_number) {
    const e164 = normalisePhone(bot.whatsapp_number, region);
    if (!e164)
      throw new EventRejected([
        { path: `${path}.whatsapp_number`, message: `"${bot.whatsapp_number}" is not a phone number` },
      ]);
    return { channel: 'whatsapp', address: e164 };
  }
  if (bot.telegram_bot_id) return { channel: 'telegram', address: bot.telegram_bot_id };
  return { channel: 'web', address: bot.web_widget_id! };
}

const knownEvents = new Set<string>(syncEventNames);

/** Validates one raw event of a request. Throws EventRejected with field paths; never touches the database. */
export function prepareEvent(raw: unknown, tenantId: string, region: string, now: Date): PreparedEvent {
  const envelope = syncEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new EventRejected(detailsFromZod(envelope.error));
  const { event, event_id, occurred_at } = envelope.data;
  if (!knownEvents.has(event)) {
    throw new EventRejected([
      { path: 'event', message: `unknown event "${event}"; known events: ${syncEventNames.join(', ')}` },
    ]);
  }
  const name = event as SyncEventName;
  const parsed = syncEventSchemas[name].safeParse(envelope.data.data);
  if (!parsed.success) throw new EventRejected(detailsFromZod(parsed.error, 'data'));
  const base = { tenantId, eventId: event_id ?? null, occurredAt: occurred_at ? new Date(occurred_at) : now };
  const data = parsed.data;
  switch (name) {
    case 'customer.seen':
      return {
        ...base,
        name,
        data: data as ParsedSyncEventData<'customer.seen'>,
        customer: customerRef(data as IdentifierFields, 'data', region),
      };
    case 'order.status':
      return { ...base, name, data: data as ParsedSyncEventData<'order.status'> };
    case 'message.created': {
      const message = data as ParsedSyncEventData<'message.created'>;
      return {
        ...base,
        name,
        data: message,
        customer: customerRef(message.customer_identifier, 'data.customer_identifier', region),
        bot: botRef(message.bot, 'data.bot', region),
      };
    }
    case 'conversation.closed': {
      const closed = data as ParsedSyncEventData<'conversation.closed'>;
      return {
        ...base,
        name,
        data: closed,
        customer: closed.customer_identifier
          ? customerRef(closed.customer_identifier, 'data.customer_identifier', region)
          : null,
        bot: closed.bot ? botRef(closed.bot, 'data.bot', region) : null,
      };
    }
    default: {
      const withCustomer = data as { customer_identifier: IdentifierFields };
      return {
        ...base,
        name,
        data,
        customer: customerRef(withCustomer.customer_identifier, 'data.customer_identifier', region),
      } as PreparedEvent;
    }
  }
}
