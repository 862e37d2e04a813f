import { randomBytes } from 'node:crypto';
import type { Tenant } from '@syncdeck/core';
import { createSyncClient, type SyncClient, type SyncdeckLogger } from '@syncdeck/sdk';
import type { Db } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../keys/index.ts';
import { findTenant, insertTenant } from '../tenants/index.ts';

/** The demo's key in each tenant: replaced on every start, so old ones do not pile up. */
export const DEMO_KEY_NAME = 'demo simulator';

type Language = 'ar' | 'en';
type Channel = 'whatsapp' | 'telegram';

interface MenuItem {
  ar: string;
  en: string;
  price: number;
}

interface Restaurant {
  slug: string;
  name: string;
  nameAr: string;
  whatsappNumber: string;
  telegramBotId: number;
  currency: { ar: string; en: string };
  menu: MenuItem[];
  customers: { name: string; language: Language; channel: Channel; id: string }[];
}

const RESTAURANTS: Restaurant[] = [
  {
    slug: 'sufrah',
    name: 'Sufrah',
    nameAr: 'سفرة',
    whatsappNumber: '+966508034010',
    telegramBotId: 7_001_001,
    currency: { ar: 'ريال', en: 'SAR' },
    menu: [
      { ar: 'كبسة دجاج', en: 'Chicken Kabsa', price: 45 },
      { ar: 'مندي لحم', en: 'Lamb Mandi', price: 65 },
      { ar: 'شاورما', en: 'Shawarma', price: 18 },
      { ar: 'لبن', en: 'Laban', price: 5 },
      { ar: 'كنافة', en: 'Kunafa', price: 22 },
    ],
    customers: [
      { name: 'سارة', language: 'ar', channel: 'whatsapp', id: '+966501110001' },
      { name: 'محمد', language: 'ar', channel: 'telegram', id: '510000001' },
      { name: 'نورة', language: 'ar', channel: 'whatsapp', id: '+966501110002' },
      { name: 'عبدالله', language: 'ar', channel: 'whatsapp', id: '+966501110003' },
      { name: 'Omar', language: 'en', channel: 'telegram', id: '510000002' },
      { name: 'Priya', language: 'en', channel: 'whatsapp', id: '+966501110004' },
    ],
  },
  {
    slug: 'ocean',
    name: 'Ocean Grill',
    nameAr: 'أوشن جريل',
    whatsappNumber: '+971501234567',
    telegramBotId: 7_002_002,
    currency: { ar: 'درهم', en: 'AED' },
    menu: [
      { ar: 'هامور مشوي', en: 'Grilled Hammour', price: 72 },
      { ar: 'برياني روبيان', en: 'Shrimp Biryani', price: 58 },
      { ar: 'سمك وبطاطا', en: 'Fish & Chips', price: 42 },
      { ar: 'ليمون ونعناع', en: 'Lemon Mint', price: 15 },
      { ar: 'أم علي', en: 'Umm Ali', price: 24 },
    ],
    customers: [
      { name: 'Aisha', language: 'en', channel: 'whatsapp', id: '+971502220001' },
      { name: 'James', language: 'en', channel: 'telegram', id: '520000001' },
      { name: 'Lina', language: 'en', channel: 'whatsapp', id: '+971502220002' },
      { name: 'Daniel', language: 'en', channel: 'whatsapp', id: '+971502220003' },
      { name: 'ريم', language: 'ar', channel: 'telegram', id: '520000002' },
      { name: 'فهد', language: 'ar', channel: 'whatsapp', id: '+971502220004' },
    ],
  },
];

const LINES = {
  hello: { ar: 'السلام عليكم', en: 'Hi there!' },
  welcome: {
    ar: (r: Restaurant) => `وعليكم السلام! أهلاً بك في ${r.nameAr} 🌙 ماذا تحب أن تطلب اليوم؟`,
    en: (r: Restaurant) => `Welcome to ${r.name}! What would you like to order today?`,
  },
  want: {
    ar: (items: string) => `أبغى ${items} لو سمحت`,
    en: (items: string) => `Can I get ${items}, please?`,
  },
  summary: {
    ar: (items: string, total: string) => `تمام! طلبك: ${items}. المجموع ${total}. أأكد الطلب؟`,
    en: (items: string, total: string) => `Got it: ${items}. That's ${total}. Shall I confirm?`,
  },
  yes: { ar: 'نعم، أكد الطلب', en: 'Yes please, confirm it' },
  confirmed: {
    ar: (n: string) => `تم تأكيد طلبك رقم ${n} ✅`,
    en: (n: string) => `Order #${n} is confirmed ✅`,
  },
  cooking: { ar: 'طلبك قيد التحضير 👨‍🍳', en: 'Your order is being cooked 👨‍🍳' },
  delivering: { ar: 'طلبك في الطريق إليك 🛵', en: 'Your order is on its way 🛵' },
  delivered: { ar: 'تم توصيل طلبك، بالعافية!', en: 'Delivered — enjoy your meal!' },
  human: { ar: 'أبي أكلم موظف لو سمحت، الطلب متأخر', en: 'Can I talk to a person? My order is late' },
  handoff: {
    ar: 'حوّلتك لأحد موظفينا، لحظات من فضلك',
    en: 'I have passed you to one of our team, one moment please',
  },
  operator: {
    ar: 'معك خالد من فريق الخدمة، طلبك بيوصل خلال عشر دقائق ونعتذر عن التأخير',
    en: 'Hi, this is Sam from the team — your order arrives in ten minutes, sorry for the wait',
  },
  thanks: { ar: 'شكراً جزيلاً', en: 'Thanks a lot' },
} as const;

interface Step {
  /** Milliseconds after the previous step. */
  after: number;
  run: () => void;
}

interface Story {
  restaurant: Restaurant;
  customerId: string;
  steps: Step[];
  nextAt: number;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (min: number, max: number) => Math.round(min + Math.random() * (max - min));

export interface DemoOptions {
  db: Db;
  /** Where the simulated bots reach this server: its own port, over HTTP, like any bot. */
  url: string;
  logger: SyncdeckLogger;
  /** How many conversations run at once per restaurant. */
  concurrency?: number;
}

export interface RunningDemo {
  tenants: Tenant[];
  /** One line saying what the demo does. */
  description: string;
  stop(): Promise<void>;
}

/** The demo's restaurants, created on the first start and found by slug afterwards. */
async function ensureTenant(db: Db, restaurant: Restaurant): Promise<Tenant> {
  const existing = await findTenant(db, restaurant.slug);
  if (existing) return existing;
  try {
    return await insertTenant(db, { slug: restaurant.slug, name: restaurant.name });
  } catch (error) {
    // Another server process of the same database created it first.
    if (!(error instanceof AppError) || error.code !== 'conflict') throw error;
    const created = await findTenant(db, restaurant.slug);
    if (!created) throw error;
    return created;
  }
}

/** A fresh ingest key for the simulator; the keys of its previous runs are revoked. */
async function demoKey(db: Db, tenant: Tenant): Promise<string> {
  const keys = await listApiKeys(db, tenant.id, { limit: 100 });
  for (const key of keys.data) {
    if (key.name === DEMO_KEY_NAME && !key.revokedAt) await revokeApiKey(db, tenant.id, key.id);
  }
  return (await createApiKey(db, { tenantId: tenant.id, name: DEMO_KEY_NAME, scopes: ['ingest'] })).token;
}

/**
 * Runs simulated restaurant bots against this server through `@syncdeck/sdk`, exactly as a real
 * bot would: over HTTP with an ingest key of their own. Two restaurants, WhatsApp and Telegram
 * customers writing in Arabic and English, orders moving through their statuses, now and then an
 * escalation to a human — a few events a second.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const concurrency = options.concurrency ?? 3;
  const clients = new Map<string, SyncClient>();
  const tenants: Tenant[] = [];
  for (const restaurant of RESTAURANTS) {
    const tenant = await ensureTenant(options.db, restaurant);
    tenants.push(tenant);
    clients.set(
      restaurant.slug,
      createSyncClient({
        url: options.url,
        apiKey: await demoKey(options.db, tenant),
        logger: options.logger,
      }),
    );
  }

  const active = new Set<Story>();
  let orderCounter = Math.floor(Date.now() / 1000) % 100_000;

  function story(restaurant: Restaurant): Story | null {
    const busy = new Set([...active].map((s) => s.customerId));
    const free = restaurant.customers.filter((c) => !busy.has(c.id));
    if (free.length === 0) return null;
    const customer = pick(free);
    const sync = clients.get(restaurant.slug)!;
    const lang = customer.language;
    const identifier =
      customer.channel === 'whatsapp' ? { whatsapp_phone: customer.id } : { telegram_chat_id: customer.id };
    const bot =
      customer.channel === 'whatsapp'
        ? { whatsapp_number: restaurant.whatsappNumber }
        : { telegram_bot_id: restaurant.telegramBotId };
    const message = (direction: 'IN' | 'OUT', content: string, metadata?: Record<string, unknown>) => {
      if (direction === 'IN') {
        sync.customerSeen({
          ...identifier,
          display_name: customer.name,
          primary_channel: customer.channel,
          preferred_language: lang,
        });
      }
      sync.messageCreated({
        customer_identifier: identifier,
        customer_name: customer.name,
        bot,
        direction,
        content,
        ...(customer.channel === 'whatsapp' ? { wa_sid: `SM${randomBytes(16).toString('hex')}` } : {}),
        ...(metadata ? { metadata } : {}),
      });
    };

    const items = [pick(restaurant.menu), pick(restaurant.menu)].filter(
      (item, i, all) => all.indexOf(item) === i,
    );
    const amounts = items.map(() => between(1, 2));
    const total = items.reduce((sum, item, i) => sum + item.price * amounts[i]!, 0);
    const itemText = items
      .map((item, i) => (amounts[i]! > 1 ? `${amounts[i]} × ${item[lang]}` : item[lang]))
      .join(lang === 'ar' ? ' و' : ' and ');
    const totalText = `${total} ${restaurant.currency[lang]}`;
    const orderId = `${restaurant.slug}-${randomBytes(5).toString('hex')}`;
    const number = String(++orderCounter);
    const escalate = Math.random() < 0.25;

    const status = (s: 'confirmed' | 'cooking' | 'delivering' | 'delivered', line?: string) => () => {
      sync.orderStatus({ syrve_order_id: orderId, status: s });
      if (line) message('OUT', line);
    };
    const steps: Step[] = [
      { after: 0, run: () => message('IN', LINES.hello[lang]) },
      { after: between(700, 1500), run: () => message('OUT', LINES.welcome[lang](restaurant)) },
      { after: between(2000, 4000), run: () => message('IN', LINES.want[lang](itemText)) },
      { after: between(700, 1500), run: () => message('OUT', LINES.summary[lang](itemText, totalText)) },
      { after: between(1500, 3000), run: () => message('IN', LINES.yes[lang]) },
      {
        after: between(700, 1500),
        run: () => {
          sync.orderCreated({
            customer_identifier: identifier,
            syrve_order_id: orderId,
            external_number: number,
            items: items.map((item, i) => ({ name: item[lang], amount: amounts[i]!, price: item.price })),
            total,
            delivery_address: lang === 'ar' ? 'حي النخيل، شارع ١٢' : '12 Palm Street',
            payment_method: pick(['cash', 'card']),
            restaurant: restaurant.name,
            channel: customer.channel,
          });
          message('OUT', LINES.confirmed[lang](number));
        },
      },
      { after: between(2000, 4000), run: status('confirmed') },
      { after: between(3000, 6000), run: status('cooking', LINES.cooking[lang]) },
    ];
    if (escalate) {
      steps.push(
        {
          after: between(3000, 5000),
          run: () => {
            message('IN', LINES.human[lang]);
            sync.escalationCreated({
              customer_identifier: identifier,
              reason: 'Customer asked for a human: the order is late',
              metadata: { channel: customer.channel },
            });
          },
        },
        { after: between(700, 1500), run: () => message('OUT', LINES.handoff[lang]) },
        {
          after: between(3000, 6000),
          run: () => message('OUT', LINES.operator[lang], { sender: 'operator' }),
        },
        { after: between(2000, 4000), run: () => message('IN', LINES.thanks[lang]) },
        {
          after: between(1000, 2000),
          run: () =>
            sync.escalationResolved({
              customer_identifier: identifier,
              resolution_summary: 'Told the customer the delivery time',
              metadata: { operator_name: lang === 'ar' ? 'خالد' : 'Sam' },
            }),
        },
      );
    }
    steps.push(
      { after: between(3000, 6000), run: status('delivering', LINES.delivering[lang]) },
      { after: between(4000, 8000), run: status('delivered', LINES.delivered[lang]) },
      {
        after: between(3000, 6000),
        run: () => sync.conversationClosed({ customer_identifier: identifier, bot }),
      },
    );
    return { restaurant, customerId: customer.id, steps, nextAt: Date.now() };
  }

  const tick = () => {
    const now = Date.now();
    for (const restaurant of RESTAURANTS) {
      const running = [...active].filter((s) => s.restaurant === restaurant).length;
      // New conversations start one at a time, so they do not all move in step.
      if (running < concurrency && Math.random() < (running === 0 ? 1 : 0.3)) {
        const next = story(restaurant);
        if (next) active.add(next);
      }
    }
    for (const current of active) {
      if (current.nextAt > now) continue;
      const step = current.steps.shift();
      if (!step) {
        active.delete(current);
        continue;
      }
      step.run();
      current.nextAt = now + (current.steps[0]?.after ?? 0);
    }
  };
  tick();
  const timer = setInterval(tick, 250);
  timer.unref();

  const channels = 'WhatsApp and Telegram customers writing in Arabic and English';
  return {
    tenants,
    description: `Demo: simulated bots of ${RESTAURANTS.length} restaurants (${RESTAURANTS.map((r) => r.slug).join(', ')}) — ${channels}, orders and escalations — sending through @syncdeck/sdk to ${options.url}`,
    async stop() {
      clearInterval(timer);
      await Promise.all([...clients.values()].map((client) => client.close({ timeoutMs: 2000 })));
    },
  };
}
