import type { Order, Tenant } from '@syncdeck/core';
import { createSyncClient, type SyncClient, type SyncdeckLogger } from '@syncdeck/sdk';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { loadSecretBox } from '../lib/secret-box.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../keys/index.ts';
import { findTenant, insertTenant, setTenantCurrency } from '../tenants/index.ts';
import { DemoApi } from './api.ts';
import { HISTORY_DAYS, type HistoryResult, readHistory, sendHistory } from './history.ts';
import { DEFAULT_LIVE_TIMING, LiveDemo, type LiveTiming } from './live.ts';
import { RESTAURANTS, type Restaurant } from './restaurants.ts';
import { DemoRowSync, ensureDemoSource } from './rowsync-demo.ts';

/** The demo's key in each tenant: replaced on every start, so old ones do not pile up. */
export const DEMO_KEY_NAME = 'demo simulator';

export interface DemoOptions {
  db: Db;
  /** Where the simulated bots reach this server: its own port, over HTTP, like any bot. */
  url: string;
  logger: SyncdeckLogger;
  /** For the master key that seals the demo source's secret, as the server seals every secret. */
  config: Pick<Config, 'secretKey' | 'dataDir'>;
  /** The live simulator's pace; tests play it fast. */
  timing?: Partial<LiveTiming>;
  /** Multiplies the history's orders a day; a test sends fewer. Default 1. */
  historyVolume?: number;
  /** Customers the history leaves waiting for a person. Default 2 per restaurant. */
  waitingEscalations?: number;
  /** How often each kitchen reports a work order; it is done after the same time again. */
  workOrderEveryMs?: number;
}

export interface DemoReport {
  /** Per restaurant slug: the history sent on this start, or null when it was there already. */
  history: Record<string, HistoryResult | null>;
  /** From the start until live play began, history included. */
  ms: number;
  /** Until the history was read and the row-sync tables and charts were in. */
  readyMs: number;
}

export interface RunningDemo {
  tenants: Tenant[];
  /** One line saying what the demo does. */
  description: string;
  /** Settles once the history (on a first start) is in and live play has begun. */
  ready: Promise<DemoReport>;
  stop(): Promise<void>;
}

/** The demo's restaurants, created on the first start and found by slug afterwards. */
async function ensureTenant(db: Db, restaurant: Restaurant): Promise<Tenant> {
  let tenant = await findTenant(db, restaurant.slug);
  if (!tenant) {
    try {
      tenant = await insertTenant(db, {
        slug: restaurant.slug,
        name: restaurant.name,
        currency: restaurant.currencyCode,
      });
    } catch (error) {
      // Another server process of the same database created it first.
      if (!(error instanceof AppError) || error.code !== 'conflict') throw error;
      tenant = await findTenant(db, restaurant.slug);
      if (!tenant) throw error;
    }
  }
  // Made before tenants had a currency, they read as the default: give them theirs.
  if (tenant.currency === 'USD')
    tenant = (await setTenantCurrency(db, tenant.id, restaurant.currencyCode)) ?? tenant;
  return tenant;
}

/** A fresh key for the simulator (its bots push, it reads and makes charts); older ones are revoked. */
async function demoKey(db: Db, tenant: Tenant): Promise<string> {
  const keys = await listApiKeys(db, tenant.id, { limit: 100 });
  for (const key of keys.data) {
    if (key.name === DEMO_KEY_NAME && !key.revokedAt) await revokeApiKey(db, tenant.id, key.id);
  }
  const scopes: ('ingest' | 'read' | 'operate')[] = ['ingest', 'read', 'operate'];
  return (await createApiKey(db, { tenantId: tenant.id, name: DEMO_KEY_NAME, scopes })).token;
}

/**
 * The history is there when the tenant has an order from more than twelve days ago: it is sent
 * newest day first, so its oldest day arrives last (an interrupted first start sends it again,
 * and its fixed event ids store each event once).
 */
async function hasHistory(api: DemoApi): Promise<boolean> {
  const before = new Date(Date.now() - (HISTORY_DAYS - 2) * 86_400_000).toISOString();
  const page = await api.get<{ data: Order[] }>(`/api/orders?to=${before}&limit=1`);
  return page.data.length > 0;
}

/**
 * Runs simulated restaurant bots against this server through `@syncdeck/sdk`, exactly as a real
 * bot would: over HTTP with a key of their own. Two restaurants, WhatsApp and Telegram customers
 * writing in Arabic and English, orders moving through their statuses to the door, and now and
 * then a late order escalated to a person, who has to resolve it. A first start sends two weeks
 * of history first; the restaurants' operations platform pushes their deliveries, sales and work
 * orders through the row-sync webhook.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const began = Date.now();
  const timing = { ...DEFAULT_LIVE_TIMING, ...options.timing };
  const clients = new Map<Restaurant, { sync: SyncClient; api: DemoApi; tenant: Tenant; token: string }>();
  for (const restaurant of RESTAURANTS) {
    const tenant = await ensureTenant(options.db, restaurant);
    const token = await demoKey(options.db, tenant);
    const sync = createSyncClient({ url: options.url, apiKey: token, logger: options.logger });
    clients.set(restaurant, { sync, api: new DemoApi(options.url, token), tenant, token });
  }
  const rows = new Map<Restaurant, DemoRowSync>();
  const live = new LiveDemo(
    RESTAURANTS,
    clients,
    timing,
    (restaurant, order) => rows.get(restaurant)?.orderDone(order),
    options.logger,
  );
  const history: SyncClient[] = [];
  let stopped = false;
  let workTimer: ReturnType<typeof setInterval> | null = null;

  const play = async (): Promise<DemoReport> => {
    const report: DemoReport = { history: {}, ms: 0, readyMs: 0 };
    await Promise.all(
      RESTAURANTS.map(async (restaurant) => {
        const { api, token } = clients.get(restaurant)!;
        if (await hasHistory(api)) {
          report.history[restaurant.slug] = null;
          return;
        }
        const sync = createSyncClient({
          url: options.url,
          apiKey: token,
          logger: options.logger,
          batchSize: 1000,
          maxQueue: 1_000_000,
          timeoutMs: 60_000,
        });
        history.push(sync);
        report.history[restaurant.slug] = await sendHistory({
          restaurant,
          sync,
          now: began,
          waitingEscalations: options.waitingEscalations ?? 2,
          volume: options.historyVolume ?? 1,
        });
      }),
    );
    if (stopped) return report;
    await live.start();
    report.ms = Date.now() - began;
    const secret = await ensureDemoSource(
      options.db,
      await loadSecretBox(options.config),
      new Map([...clients].map(([r, c]) => [r, c.tenant])),
    );
    for (const restaurant of RESTAURANTS) {
      const sync = DemoRowSync.create(
        restaurant,
        options.url,
        secret,
        clients.get(restaurant)!.api,
        options.logger,
      );
      rows.set(restaurant, sync);
      void sync.setUp();
    }
    const every = options.workOrderEveryMs ?? 10 * 60_000;
    workTimer = setInterval(() => {
      for (const sync of rows.values()) sync.workOrderTick(every);
    }, every);
    workTimer.unref();
    const reading = RESTAURANTS.filter((r) => report.history[r.slug]).map((r) =>
      readHistory(clients.get(r)!.api),
    );
    await Promise.all([...reading, ...[...rows.values()].map((sync) => sync.settled())]);
    report.readyMs = Date.now() - began;
    return report;
  };
  const ready = play();
  ready.then(
    (report) => options.logger.info?.({ ...report }, 'demo: history and live play under way'),
    (error: unknown) => options.logger.error?.({ err: error }, 'demo: could not start playing'),
  );

  const channels = 'WhatsApp and Telegram customers writing in Arabic and English';
  return {
    tenants: [...clients.values()].map((c) => c.tenant),
    description: `Demo: simulated bots of ${RESTAURANTS.length} restaurants (${RESTAURANTS.map((r) => r.slug).join(', ')}) — ${channels}, orders and escalations that wait for a person, ${HISTORY_DAYS} days of history on the first start, deliveries and sales through row sync — sending through @syncdeck/sdk to ${options.url}`,
    ready,
    async stop() {
      stopped = true;
      live.stop();
      if (workTimer) clearInterval(workTimer);
      await Promise.all([
        ...history.map((client) => client.close({ timeoutMs: 1000 })),
        ...[...clients.values()].map((c) => c.sync.close({ timeoutMs: 2000 })),
        ...[...rows.values()].map((sync) =>
          Promise.race([sync.settled(), new Promise((r) => setTimeout(r, 2000))]),
        ),
      ]);
    },
  };
}
