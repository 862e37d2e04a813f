/**
 * The demo's operations platform: a row-sync source, `optiqo_demo`, that owns the restaurants'
 * deliveries, daily sales and kitchen work orders and pushes them, signed, through the real
 * webhook with the SDK's RowSyncSender — a full sync the first time, single changes after.
 */
import { randomBytes } from 'node:crypto';
import type { Chart, ChartSpec, Order, SyncedTable, Tenant } from '@syncdeck/core';
import { type Row, RowSyncSender, type SyncdeckLogger } from '@syncdeck/sdk';
import type { Db } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import {
  addSecret,
  createSource,
  listSources,
  mapSourceTenant,
  removeSecret,
  toSource,
} from '../rowsync/index.ts';
import type { DemoApi } from './api.ts';
import { between, type DemoCustomer, pick, type Restaurant, seededRng } from './restaurants.ts';

export const DEMO_SOURCE = 'optiqo_demo';

/** Source table → the table the dashboard shows (adhoc_work_orders → work_orders is a default). */
const TABLES = [
  { sourceTable: 'deliveries', targetTable: 'deliveries' },
  { sourceTable: 'daily_sales', targetTable: 'daily_sales' },
];

const CHARTS: { name: string; spec: ChartSpec }[] = [
  {
    name: 'Deliveries per day',
    spec: {
      table: 'deliveries',
      metric: { fn: 'count' },
      groupBy: { column: 'delivered_at', bucket: 'day' },
      filters: [],
    },
  },
  {
    name: 'Average delivery minutes by driver',
    spec: {
      table: 'deliveries',
      metric: { fn: 'avg', column: 'minutes' },
      groupBy: { column: 'driver' },
      filters: [],
    },
  },
  {
    name: 'Revenue per day',
    spec: {
      table: 'daily_sales',
      metric: { fn: 'sum', column: 'revenue' },
      groupBy: { column: 'date', bucket: 'day' },
      filters: [],
    },
  },
];

/**
 * The source, created on the first start. Its secret is generated on every start and the older
 * of two is removed (a source keeps at most two): the demo needs the secret in the clear to sign,
 * and the server keeps secrets sealed. The previous run's secret stays valid until the next start.
 */
export async function ensureDemoSource(
  db: Db,
  box: SecretBox,
  tenants: Map<Restaurant, Tenant>,
): Promise<string> {
  const secret = `demo_${randomBytes(24).toString('base64url')}`;
  const existing = (await listSources(db)).map(toSource).find((s) => s.name === DEMO_SOURCE);
  if (!existing) {
    await createSource(db, box, { name: DEMO_SOURCE, secret, tables: TABLES });
  } else {
    const oldest = [...existing.secrets].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    if (oldest.length >= 2) await removeSecret(db, DEMO_SOURCE, oldest[0]!.fingerprint);
    await addSecret(db, box, DEMO_SOURCE, secret);
  }
  // Without these, the source's ids would make tenants of their own (`optiqo_demo-site-…`).
  for (const [restaurant, tenant] of tenants)
    await mapSourceTenant(db, DEMO_SOURCE, restaurant.siteId, tenant.id);
  return secret;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The restaurant's local date of an instant, `YYYY-MM-DD`. */
function localDay(restaurant: Restaurant, ms: number): string {
  return new Date(ms + restaurant.utcOffsetHours * 3_600_000).toISOString().slice(0, 10);
}

/** Midnight of a local date, as an ISO time with the restaurant's offset: a timestamp column. */
function dayStamp(restaurant: Restaurant, day: string): string {
  return `${day}T00:00:00+0${restaurant.utcOffsetHours}:00`;
}

function deliveryRow(
  restaurant: Restaurant,
  number: string,
  deliveredAt: number,
  minutes: number,
  rng = Math.random,
): Row {
  return {
    id: `dl-${number}`,
    order_number: number,
    driver: pick(restaurant.drivers, rng),
    zone: pick(restaurant.zones, rng),
    distance_km: Math.round((1.5 + rng() * 8) * 10) / 10,
    minutes,
    status: 'delivered',
    delivered_at: iso(deliveredAt),
    updated_at: iso(deliveredAt),
  };
}

const WORK = [
  'Descale the coffee machine',
  'Fix the walk-in freezer door seal',
  'Replace a fryer thermostat',
  'Deep-clean the hood filters',
  'Restock delivery bags',
  'Service the delivery scooter',
  'Repaint the terrace railing',
];

function workOrder(
  restaurant: Restaurant,
  n: number | string,
  createdAt: number,
  status: string,
  rng: () => number,
): Row {
  return {
    id: `wo-${restaurant.slug}-${n}`,
    title: pick(WORK, rng),
    area: pick(['Kitchen', 'Dining room', 'Storage', 'Delivery'], rng),
    priority: pick(['low', 'normal', 'normal', 'high'], rng),
    status,
    created_at: iso(createdAt),
    completed_at: status === 'done' ? iso(createdAt + between(2, 30, rng) * 3_600_000) : null,
    updated_at: iso(createdAt + (status === 'done' ? 30 : 1) * 3_600_000),
  };
}

/** Pushes a restaurant's rows and keeps them moving; each restaurant's pushes go one after another. */
export class DemoRowSync {
  private chain: Promise<void> = Promise.resolve();
  private today: { day: string; orders: number; revenue: number; cancelled: number } | null = null;

  constructor(
    private readonly restaurant: Restaurant,
    private readonly sender: RowSyncSender,
    private readonly api: DemoApi,
    private readonly logger: SyncdeckLogger,
  ) {}

  static create(restaurant: Restaurant, url: string, secret: string, api: DemoApi, logger: SyncdeckLogger) {
    return new DemoRowSync(restaurant, new RowSyncSender({ url, secret, source: DEMO_SOURCE }), api, logger);
  }

  /** Runs pushes in order; a failed one is logged and the next goes on. */
  private queue(work: () => Promise<unknown>): Promise<void> {
    this.chain = this.chain.then(work).then(
      () => undefined,
      (error: unknown) =>
        this.logger.warn?.({ err: error, restaurant: this.restaurant.slug }, 'demo: a row-sync push failed'),
    );
    return this.chain;
  }

  /**
   * The first time (the tenant has no `deliveries` yet): a full sync of every table, built from
   * the orders the tenant has, and the charts. Every start: today's sales row from today's orders.
   */
  setUp(): Promise<void> {
    return this.queue(async () => {
      const r = this.restaurant;
      const synced = await this.api.get<{ data: SyncedTable[] }>('/api/synced');
      const orders = await this.api.all<Order>(`/api/orders?from=${iso(Date.now() - 15 * 86_400_000)}`, 5000);
      const days = new Map<string, { orders: number; revenue: number; cancelled: number }>();
      for (const order of orders) {
        const day = localDay(r, Date.parse(order.createdAt));
        const entry = days.get(day) ?? { orders: 0, revenue: 0, cancelled: 0 };
        if (order.status === 'cancelled') entry.cancelled++;
        else {
          entry.orders++;
          entry.revenue += order.total ?? 0;
        }
        days.set(day, entry);
      }
      const todayKey = localDay(r, Date.now());
      this.today = { day: todayKey, ...(days.get(todayKey) ?? { orders: 0, revenue: 0, cancelled: 0 }) };
      if (!synced.data.some((t) => t.table === 'deliveries')) {
        await this.fullSync(orders, days);
      } else {
        await this.sender.update('daily_sales', r.siteId, this.salesRow());
      }
      await this.ensureCharts();
    });
  }

  private async fullSync(
    orders: Order[],
    days: Map<string, { orders: number; revenue: number; cancelled: number }>,
  ) {
    const r = this.restaurant;
    const rng = seededRng(`${r.slug}:rows`);
    const deliveries: Row[] = [];
    for (const order of orders) {
      const delivered = order.statusHistory.find((s) => s.status === 'delivered');
      const leaving = order.statusHistory.find((s) => s.status === 'delivering');
      if (!delivered || !leaving) continue;
      const at = Date.parse(delivered.occurredAt);
      const minutes = Math.max(5, Math.round((at - Date.parse(leaving.occurredAt)) / 60_000));
      deliveries.push(deliveryRow(r, order.externalNumber ?? order.syrveOrderId, at, minutes, rng));
    }
    const sales = [...days].map(([day, d]) => this.salesRow(day, d));
    const work: Row[] = [];
    for (let n = 1; n <= 18; n++) {
      const createdAt = Date.now() - between(2, 14 * 24, rng) * 3_600_000;
      work.push(workOrder(r, n, createdAt, rng() < 0.7 ? 'done' : pick(['open', 'in_progress'], rng), rng));
    }
    await this.sender.fullSync('deliveries', r.siteId, deliveries, { batchSize: 500 });
    await this.sender.fullSync('daily_sales', r.siteId, sales);
    await this.sender.fullSync('adhoc_work_orders', r.siteId, work);
  }

  private salesRow(
    day = this.today!.day,
    d: { orders: number; revenue: number; cancelled: number } = this.today!,
  ): Row {
    const orders = d.orders;
    return {
      id: day,
      date: dayStamp(this.restaurant, day),
      orders,
      cancelled: d.cancelled,
      revenue: d.revenue,
      avg_ticket: orders > 0 ? Math.round((d.revenue / orders) * 100) / 100 : 0,
      currency: this.restaurant.currencyCode,
      updated_at: iso(Date.now()),
    };
  }

  private async ensureCharts() {
    const existing = await this.api.get<{ data: Chart[] }>('/api/charts?limit=200');
    for (const chart of CHARTS) {
      if (!existing.data.some((c) => c.name === chart.name)) await this.api.post('/api/charts', chart);
    }
  }

  /** An order was delivered or cancelled: its delivery row, and today's sales moved on. */
  orderDone(order: {
    number: string;
    total: number;
    status: 'delivered' | 'cancelled';
    customer: DemoCustomer | null;
  }) {
    void this.queue(async () => {
      if (!this.today) return;
      const now = Date.now();
      const day = localDay(this.restaurant, now);
      if (day !== this.today.day) this.today = { day, orders: 0, revenue: 0, cancelled: 0 };
      if (order.status === 'cancelled') this.today.cancelled++;
      else {
        this.today.orders++;
        this.today.revenue += order.total;
        await this.sender.insert(
          'deliveries',
          this.restaurant.siteId,
          deliveryRow(this.restaurant, order.number, now, between(18, 45)),
        );
      }
      await this.sender.update('daily_sales', this.restaurant.siteId, this.salesRow());
    });
  }

  /** Now and then the kitchen reports a job, and later closes it. */
  workOrderTick(closeAfterMs: number) {
    void this.queue(async () => {
      const row = workOrder(this.restaurant, randomBytes(4).toString('hex'), Date.now(), 'open', Math.random);
      await this.sender.insert('adhoc_work_orders', this.restaurant.siteId, row);
      const timer = setTimeout(() => {
        const done = { ...row, status: 'done', completed_at: iso(Date.now()), updated_at: iso(Date.now()) };
        void this.queue(() => this.sender.update('adhoc_work_orders', this.restaurant.siteId, done, row));
      }, closeAfterMs);
      timer.unref();
    });
  }

  /** Waits for the pushes under way. */
  settled(): Promise<void> {
    return this.chain;
  }
}
