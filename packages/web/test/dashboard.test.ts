import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  message,
  newPhone,
  type ServerProcess,
  startServerProcess,
  type TestDatabase,
} from '@syncdeck/server/testing';
import { ensureBuilt } from '../scripts/ensure-built.ts';
import {
  type Api,
  apiClient,
  freePort,
  type Login,
  launchBrowser,
  platformAdmin,
  screenshot,
  login as signIn,
} from './support.ts';

/*
 * The dashboard in a real browser (Debian's Chromium) against a real server process on its
 * own database; the server is stopped and started again under the open page.
 */

const OWNER = { email: 'owner@sufrah.test', password: 'sufrah owner password' };
const OCEAN = { email: 'owner@ocean.test', password: 'ocean owner password' };
/** The platform admin the first start creates and prints once. */
let ADMIN: Login;
const SUFRAH_BOT = 'whatsapp:+966508034010';
const OCEAN_BOT = 'whatsapp:+966502045939';

let database: TestDatabase;
let server: ServerProcess;
let env: Record<string, string>;
let base = '';
let admin: Api;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let sufrahIngest: Api;
let oceanIngest: Api;
const arabicPhone = newPhone();
const englishPhone = newPhone();
const thirdPhone = newPhone();

async function ingest(api: Api, events: object[]) {
  const answer = await api('POST', '/api/sync/events', { events });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.rejected, JSON.stringify(answer.body)).toBe(0);
}

const login = (target: Page, who: Login) => signIn(target, base, who);

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

beforeAll(async () => {
  await ensureBuilt({ quiet: true });
  database = await createTestDatabase();
  env = { ...database.env, PORT: String(await freePort()), REALTIME_POLL_MS: '200' };
  server = await startServerProcess(env, 60_000);
  base = server.url;
  const platform = platformAdmin(server.output());
  ADMIN = platform.login;
  admin = apiClient(() => base, platform.token);

  for (const [slug, name, who, currency] of [
    ['sufrah', 'Sufrah', OWNER, 'SAR'],
    ['ocean', 'Ocean Restaurant', OCEAN, undefined],
  ] as const) {
    expect((await admin('POST', '/api/admin/tenants', { slug, name, currency })).status).toBe(201);
    const member = await admin(
      'POST',
      '/api/admin/users',
      { ...who, role: 'owner' },
      { 'x-tenant-id': slug },
    );
    expect(member.status, JSON.stringify(member.body)).toBe(201);
  }
  const key = async (slug: string) =>
    (await admin('POST', '/api/admin/keys', { name: 'bot', scopes: ['ingest'] }, { 'x-tenant-id': slug }))
      .body.token;
  sufrahIngest = apiClient(() => base, await key('sufrah'));
  oceanIngest = apiClient(() => base, await key('ocean'));

  await ingest(sufrahIngest, [
    message(arabicPhone, 'مرحبا، أريد طلب شاورما', minutesAgo(30), { name: 'أحمد علي', bot: SUFRAH_BOT }),
    message(arabicPhone, 'أهلاً! كيف يمكنني مساعدتك؟', minutesAgo(29), { direction: 'OUT', bot: SUFRAH_BOT }),
    // A person answering through the bot, named as the SDK's `sender` says.
    {
      event: 'message.created',
      occurred_at: minutesAgo(28),
      data: {
        customer_identifier: { whatsapp_phone: `whatsapp:${arabicPhone}` },
        bot: { whatsapp_number: SUFRAH_BOT },
        direction: 'OUT',
        content: 'This is Layla from the kitchen',
        sender: { type: 'agent', name: 'Layla' },
      },
    },
    message(englishPhone, 'Hi, is the falafel wrap spicy?', minutesAgo(20), {
      name: 'Sarah Miller',
      bot: SUFRAH_BOT,
    }),
    message(thirdPhone, 'Where is my order?', minutesAgo(10), { name: 'Omar Hassan', bot: SUFRAH_BOT }),
    {
      event: 'order.created',
      occurred_at: minutesAgo(25),
      data: {
        customer_identifier: { whatsapp_phone: `whatsapp:${arabicPhone}` },
        syrve_order_id: 'web-order-1',
        external_number: '1001',
        items: [{ name: 'Shawarma', amount: 2, price: 25 }],
        total: 50,
      },
    },
    {
      event: 'order.status',
      occurred_at: minutesAgo(15),
      data: { syrve_order_id: 'web-order-1', status: 'cooking' },
    },
    {
      event: 'escalation.created',
      occurred_at: minutesAgo(9),
      data: { customer_identifier: { whatsapp_phone: `whatsapp:${thirdPhone}` }, reason: 'Order is late' },
    },
  ]);
  await ingest(oceanIngest, [
    message(newPhone(), 'Ocean only question', minutesAgo(5), {
      name: 'Ocean Only Customer',
      bot: OCEAN_BOT,
    }),
  ]);

  // A tenant with more than a page of conversations, one of them longer than a page of messages.
  expect((await admin('POST', '/api/admin/tenants', { slug: 'busy', name: 'Busy Kitchen' })).status).toBe(
    201,
  );
  const busyIngest = apiClient(() => base, await key('busy'));
  const longPhone = newPhone();
  await ingest(busyIngest, [
    ...Array.from({ length: 34 }, (_, i) =>
      message(newPhone(), `question ${i}`, minutesAgo(100 + i), { name: `Guest ${i}`, bot: SUFRAH_BOT }),
    ),
    ...Array.from({ length: 120 }, (_, i) =>
      message(longPhone, `line ${i + 1}`, minutesAgo(90 - i / 2), { name: 'Long Talker', bot: SUFRAH_BOT }),
    ),
  ]);

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill('SIGTERM');
  await database?.drop();
});

describe('the dashboard in a browser', () => {
  it('logs in and shows the overview from the API', async () => {
    // Before anyone signs in, nothing the page asks answers an error (a 401 is a red console line).
    const failures: string[] = [];
    const onResponse = (r: { status(): number; url(): string }) => {
      if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
    };
    const onConsole = (m: { type(): string; text(): string }) => {
      if (m.type() === 'error') failures.push(m.text());
    };
    page.on('response', onResponse);
    page.on('console', onConsole);
    await page.goto(base);
    await page.waitForURL(/\/login/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    page.off('response', onResponse);
    page.off('console', onConsole);
    expect(failures).toEqual([]);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or password is wrong.').waitFor();
    await screenshot(page, 'login');
    await login(page, OWNER);
    const cards = page.getByTestId('overview-cards');
    await cards.getByText('Active conversations').waitFor();
    await expect
      .poll(() => cards.locator('.stat-card', { hasText: 'Active conversations' }).innerText())
      .toMatch(/3/);
    await expect
      .poll(() => cards.locator('.stat-card', { hasText: 'Open escalations' }).innerText())
      .toMatch(/1/);
    await page.getByRole('heading', { name: 'Orders by status' }).waitFor();
    await screenshot(page, 'overview');
  });

  it('lists the seeded conversations, newest first, Arabic right to left', async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    const list = page.getByTestId('conversation-list');
    await expect
      .poll(() => list.locator('.row-name').allInnerTexts())
      .toEqual(['Omar Hassan', 'Sarah Miller', 'أحمد علي']);
    await list.getByText('أحمد علي').click();
    const transcript = page.getByTestId('transcript');
    const arabic = transcript.getByText('مرحبا، أريد طلب شاورما');
    await arabic.waitFor();
    expect(await arabic.evaluate((node) => getComputedStyle(node).direction)).toBe('rtl');
    // Each message says who wrote it; the person answering is named and set apart from the bot.
    const author = (text: string) => transcript.locator('.bubble', { hasText: text }).locator('.author');
    expect(await author('مرحبا، أريد طلب شاورما').innerText()).toBe('Customer');
    expect(await author('أهلاً! كيف يمكنني مساعدتك؟').innerText()).not.toMatch(/Customer|Layla/);
    const agent = transcript.locator('.bubble', { hasText: 'This is Layla from the kitchen' });
    expect(await agent.locator('.author').innerText()).toBe('Layla');
    expect(await agent.getAttribute('data-author')).toBe('agent');
    const bot = transcript.locator('.bubble', { hasText: 'أهلاً! كيف يمكنني مساعدتك؟' });
    const background = (node: Element) => getComputedStyle(node).backgroundColor;
    expect(await agent.evaluate(background)).not.toBe(await bot.evaluate(background));
    await page.getByTestId('link-status').getByText('Live').waitFor();
    await ingest(sufrahIngest, [message(englishPhone, 'Is it halal?', minutesAgo(0), { bot: SUFRAH_BOT })]);
    // The English conversation moves to the top with its unread count, without a reload.
    await expect.poll(() => list.locator('.row-name').first().innerText()).toBe('Sarah Miller');
    await expect
      .poll(() => list.locator('li', { hasText: 'Sarah Miller' }).locator('.unread').innerText())
      .toMatch(/^2/);
    const english = await page.getByText('Is it halal?').evaluate((node) => getComputedStyle(node).direction);
    expect(english).toBe('ltr');
    await screenshot(page, 'inbox');
  });

  it('shows a message posted to the sync API in the open transcript without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    await ingest(sufrahIngest, [
      message(arabicPhone, 'هل الطلب جاهز؟', new Date().toISOString(), { bot: SUFRAH_BOT }),
    ]);
    await page.getByTestId('transcript').getByText('هل الطلب جاهز؟').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // The open conversation is marked read as the message arrives.
    const row = page.getByTestId('conversation-list').locator('li', { hasText: 'أحمد علي' });
    await expect.poll(() => row.locator('.unread').count()).toBe(0);
  });

  it('recovers by itself when the server restarts under the open page, with nothing missing', async () => {
    await server.kill('SIGTERM');
    await page
      .getByTestId('link-status')
      .getByText(/Reconnecting|Offline/)
      .waitFor({ timeout: 10_000 });
    await screenshot(page, 'reconnecting');
    server = await startServerProcess(env, 60_000);
    expect(server.url).toBe(base);
    // Written right after the restart, most likely before the page is back: it must catch up.
    const texts = ['بعد إعادة التشغيل ١', 'After the restart 2'];
    await ingest(sufrahIngest, [
      message(arabicPhone, texts[0]!, new Date().toISOString(), { bot: SUFRAH_BOT }),
      message(arabicPhone, texts[1]!, new Date(Date.now() + 1).toISOString(), { bot: SUFRAH_BOT }),
    ]);
    await page.getByTestId('link-status').getByText('Live').waitFor({ timeout: 20_000 });
    const transcript = page.getByTestId('transcript');
    for (const text of texts) await transcript.getByText(text).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // Every stored message of the conversation is on the page, once.
    const conversationId = page.url().split('/inbox/')[1]!.split('?')[0]!;
    const stored = await admin('GET', `/api/db/conversations/${conversationId}/messages`, undefined, {
      'x-tenant-id': 'sufrah',
    });
    const shown = await transcript.locator('.bubble p').allInnerTexts();
    expect(shown).toEqual(stored.body.map((m: { content: string }) => m.content));
    await screenshot(page, 'after-restart');
  }, 90_000);

  it('registers a bot: a bad number shows the error, a good one appears in the list', async () => {
    await page.getByRole('link', { name: 'Bots' }).click();
    await page.getByRole('heading', { name: 'Bots' }).waitFor();
    await page.getByRole('button', { name: 'Register new bot' }).click();
    const form = page.getByRole('form', { name: 'Register a new bot' });
    await form.getByRole('button', { name: 'Ocean Restaurant' }).click();
    expect(await form.getByLabel('Restaurant name').inputValue()).toBe('مطعم شاورما وفلافل أوشن');
    await form.getByRole('button', { name: 'Sufrah' }).click();
    expect(await form.getByLabel('Bot name').inputValue()).toBe('Sufrah Bot');
    expect(await form.getByLabel('Sender SID').inputValue()).toBe('XE23c4f8b55966a1bfd101338f4c68b8cb');
    await form.getByLabel('WhatsApp number').fill('12ab');
    await form.getByLabel('Twilio account SID').fill('AC0123456789abcdef');
    await form.getByLabel('Twilio auth token').fill('twilio-secret-token');
    await form.getByRole('button', { name: 'Register bot' }).click();
    await form.getByText('"12ab" is not a phone number').waitFor();
    expect(await form.getByLabel('WhatsApp number').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'bot-form-error');
    await form.getByLabel('WhatsApp number').fill('+966 50 111 2233');
    await form.getByLabel('Bot name').fill('Sufrah Second Bot');
    await form.getByRole('button', { name: 'Register bot' }).click();
    const table = page.getByTestId('bot-table');
    const row = table.locator('tr', { hasText: 'Sufrah Second Bot' });
    await row.waitFor();
    expect(await row.innerText()).toContain('+966501112233');
    expect(await row.innerText()).toContain('stored');
    // The token is write-only: nowhere on the page, and not in the API's answer.
    expect(await page.content()).not.toContain('twilio-secret-token');
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit Sufrah Second Bot' });
    await edit.getByText('A token is stored and never shown. Leave empty to keep it.').waitFor();
    expect(await edit.getByLabel('Twilio auth token').inputValue()).toBe('');
    await edit.getByLabel('Restaurant name').fill('Sufrah Olaya');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await row.getByText('Sufrah Olaya').waitFor();
    expect(await row.innerText()).toContain('stored');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
    await row.getByText('INACTIVE').waitFor();
    await screenshot(page, 'bots');
  });

  it('shows customers with their 360 view, orders and escalations, and resolves one', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'أحمد علي' }).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page.getByText('Order placed').waitFor();
    await page.getByRole('button', { name: /Order 1001/ }).click();
    await page.getByRole('list', { name: 'Status history' }).getByText('cooking').waitFor();
    // Amounts in the tenant's currency, formatted as the browser's locale writes them.
    const sar = (n: number) =>
      page.evaluate(
        (v) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'SAR' }).format(v),
        n,
      );
    expect(await page.getByTestId('customer-spent').innerText()).toBe(await sar(50));
    expect(await page.getByRole('list', { name: 'Items' }).innerText()).toContain(await sar(25));
    await screenshot(page, 'customer-360');
    await page.getByRole('link', { name: 'All customers' }).click();
    await page.getByRole('link', { name: 'Omar Hassan' }).waitFor();
    await screenshot(page, 'customers');
    await page.getByRole('link', { name: 'Orders' }).click();
    const order = page.locator('.order-row', { hasText: '1001' });
    await order.waitFor();
    expect(await order.locator('.money').first().innerText()).toBe(await sar(50));
    // Each order names its customer, linking to them.
    await order.getByRole('link', { name: 'أحمد علي' }).waitFor();
    await screenshot(page, 'orders');
    await page.getByRole('link', { name: 'Escalations' }).click();
    const escalation = page.locator('.escalation-row', { hasText: 'Order is late' });
    await escalation.waitFor();
    await escalation.getByRole('link', { name: 'Omar Hassan' }).waitFor();
    await screenshot(page, 'escalations');
    await page.getByRole('button', { name: 'Resolve' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Resolution summary (optional)').fill('Called the customer');
    await dialog.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('No open escalations').waitFor();
  });

  it('creates an API key shown once, and lists users', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Name').first().fill('Dashboard test key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = await page.getByTestId('new-token').innerText();
    expect(token).toMatch(/^sdk_live_/);
    await page.getByRole('cell', { name: OWNER.email }).waitFor();
    await screenshot(page, 'settings');
    // The tenant's currency, set here, is what every amount is shown in from then on.
    const currency = page.getByLabel('Order totals and revenue are in');
    expect(await currency.inputValue()).toBe('SAR');
    await currency.selectOption('KWD');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'Orders' }).click();
    const kwd = await page.evaluate(() =>
      new Intl.NumberFormat(undefined, { style: 'currency', currency: 'KWD' }).format(50),
    );
    await expect
      .poll(() => page.locator('.order-row', { hasText: '1001' }).locator('.money').first().innerText())
      .toBe(kwd);
  });

  it('says once, with a way back, that a page or a conversation does not exist', async () => {
    const missing = await page.goto(`${base}/t/sufrah/inbox/00000000-0000-4000-8000-000000000000`);
    expect(missing?.status()).toBe(200);
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByText('No such conversation').waitFor();
    // Both reads failed; it is said once.
    await expect.poll(() => transcript.getByRole('alert').count()).toBe(1);
    await transcript.getByRole('link', { name: 'Back to conversations' }).waitFor();
    await screenshot(page, 'missing-conversation');

    for (const [url, back, landing] of [
      ['/nope', 'Go to your dashboard', 'Overview'],
      ['/inbox/x/y', 'Go to your dashboard', 'Overview'],
      ['/t/sufrah/nothing-here', 'Back to the overview', 'Overview'],
    ] as const) {
      const response = await page.goto(`${base}${url}`);
      // The server answers 404 for what is no dashboard path, and the dashboard says why.
      if (!url.startsWith('/t/')) expect(response?.status(), url).toBe(404);
      await page.getByText('Page not found').waitFor();
      await page.getByRole('link', { name: back }).click();
      await page.getByRole('heading', { name: landing }).waitFor();
    }
    // An unknown API path stays a JSON 404.
    const api = await page.goto(`${base}/api/nope`);
    expect(api?.status()).toBe(404);
    expect(JSON.parse(await page.innerText('body')).error.code).toBe('route_not_found');
    await page.goto(`${base}/t/sufrah/overview`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it('never shows one tenant to a user of another', async () => {
    const other = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const oceanPage = await other.newPage();
    await login(oceanPage, OCEAN);
    await oceanPage.getByRole('link', { name: 'Inbox' }).click();
    const list = oceanPage.getByTestId('conversation-list');
    await expect.poll(() => list.locator('.row-name').allInnerTexts()).toEqual(['Ocean Only Customer']);
    await oceanPage.getByLabel('Search conversations').fill('Sarah');
    await oceanPage.getByText('No conversation matches').waitFor();
    // Sufrah's pages and API answer as if it did not exist.
    await oceanPage.goto(`${base}/t/sufrah/inbox`);
    await oceanPage.getByText('No tenant “sufrah” here.').waitFor();
    const status = await oceanPage.evaluate(
      async () => (await fetch('/api/db/conversations', { headers: { 'x-tenant-id': 'sufrah' } })).status,
    );
    expect(status).toBe(404);
    expect(await oceanPage.content()).not.toContain('Sarah Miller');
    await other.close();
  });

  it('shows every tenant to a platform admin', async () => {
    const other = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const adminPage = await other.newPage();
    await login(adminPage, ADMIN);
    await adminPage.getByRole('link', { name: 'All tenants' }).click();
    await adminPage.getByRole('link', { name: 'Ocean Only Customer' }).waitFor();
    await adminPage.getByRole('link', { name: 'Sarah Miller' }).waitFor();
    await screenshot(adminPage, 'all-tenants');
    await adminPage.getByLabel('Tenant').selectOption('ocean');
    await adminPage.getByRole('heading', { name: 'Overview' }).waitFor();
    await other.close();
  });

  it('scrolls both ways: more conversations down the list, older messages up the transcript', async () => {
    const other = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const adminPage = await other.newPage();
    await login(adminPage, ADMIN);
    await adminPage.goto(`${base}/t/busy/inbox`);
    const list = adminPage.getByTestId('conversation-list');
    await expect.poll(() => list.locator('li').count()).toBe(30);
    await list.locator('li').last().scrollIntoViewIfNeeded();
    await expect.poll(() => list.locator('li').count()).toBe(35);
    await list.getByText('Long Talker').click();
    const transcript = adminPage.getByTestId('transcript');
    await transcript.getByText('line 120', { exact: true }).waitFor();
    await expect.poll(() => transcript.locator('.bubble').count()).toBe(50);
    for (const expected of [100, 120]) {
      await transcript.evaluate((node) => {
        node.scrollTop = 0;
      });
      await expect.poll(() => transcript.locator('.bubble').count()).toBe(expected);
    }
    const texts = await transcript.locator('.bubble p').allInnerTexts();
    expect(texts).toEqual(Array.from({ length: 120 }, (_, i) => `line ${i + 1}`));
    await screenshot(adminPage, 'inbox-long');
    await other.close();
  });

  it('logs out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto(`${base}/t/sufrah/inbox`);
    await page.waitForURL(/\/login\?next=/);
  });
});
