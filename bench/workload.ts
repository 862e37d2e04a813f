/**
 * The ingest mix of the benchmark: about 70% message.created, 15% customer.seen, 10% order
 * events and 5% escalations, over 5,000 customers, 20 bots and 2 tenants. Every event has a
 * unique event_id, as the SDK's UUIDv7 ids are.
 */
export interface Workload {
  next(tenant: number): Record<string, unknown>;
}

const CUSTOMERS = 5000;
const BOTS = 20;

export function createWorkload(runId: string): Workload {
  let counter = 0;
  const ordersOf = [0, 0];
  const phone = (i: number) => `+9665${String(10_000_000 + i).slice(-8)}`;
  return {
    next(tenant) {
      counter += 1;
      const n = counter;
      const customer = { whatsapp_phone: `whatsapp:${phone(tenant * CUSTOMERS + (n % (CUSTOMERS / 2)))}` };
      const bot = {
        whatsapp_number: `+96611000${String(tenant * BOTS + (n % (BOTS / 2))).padStart(4, '0')}`,
      };
      const eventId = `${runId}-${n}`;
      const roll = n % 100;
      if (roll < 70) {
        return {
          event: 'message.created',
          event_id: eventId,
          data: {
            customer_identifier: customer,
            customer_name: n % 2 ? 'أحمد علي' : 'Sarah Smith',
            bot,
            direction: n % 3 ? 'IN' : 'OUT',
            message_type: 'text',
            content: n % 2 ? 'مرحبا، أريد طلب طعام' : 'Hello, I would like to order a pizza',
            wa_sid: `SM${eventId}`,
          },
        };
      }
      if (roll < 85) {
        return {
          event: 'customer.seen',
          event_id: eventId,
          data: {
            ...customer,
            display_name: 'Customer',
            primary_channel: 'whatsapp',
            preferred_language: 'ar',
          },
        };
      }
      if (roll < 90) {
        ordersOf[tenant]! += 1;
        return {
          event: 'order.created',
          event_id: eventId,
          data: {
            customer_identifier: customer,
            syrve_order_id: `${runId}-order-${tenant}-${ordersOf[tenant]}`,
            external_number: String(n),
            items: [{ name: 'Shawarma', amount: 2, price: 18 }],
            total: 36,
            restaurant: 'Sufrah',
            channel: 'whatsapp',
          },
        };
      }
      if (roll < 95) {
        return {
          event: 'order.status',
          event_id: eventId,
          data: {
            syrve_order_id: `${runId}-order-${tenant}-${Math.max(1, ordersOf[tenant]!)}`,
            status: 'cooking',
          },
        };
      }
      return {
        event: roll < 98 ? 'escalation.created' : 'escalation.resolved',
        event_id: eventId,
        data: { customer_identifier: customer, reason: 'Customer asked for a human' },
      };
    },
  };
}
