import type { Browser, Page } from 'playwright-core';
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
import { apiClient, freePort, launchBrowser, login, platformAdmin, screenshot } from './support.ts';

/* The dashboard on a phone-sized screen (390×844), in Chromium, against a real server. */

const OWNER = { email: 'owner@phone.test', password: 'phone owner password' };
const PHONE = { width: 390, height: 844 };
const BOT = 'whatsapp:+966508034010';

let database: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureBuilt({ quiet: true });
  database = await createTestDatabase();
  server = await startServerProcess({ ...database.env, PORT: String(await freePort()) }, 60_000);
  const admin = apiClient(() => server.url, platformAdmin(server.output()).token);
  expect((await admin('POST', '/api/admin/tenants', { slug: 'sufrah', name: 'Sufrah' })).status).toBe(201);
  const tenant = { 'x-tenant-id': 'sufrah' };
  expect((await admin('POST', '/api/admin/users', { ...OWNER, role: 'owner' }, tenant)).status).toBe(201);
  const key = await admin('POST', '/api/admin/keys', { name: 'bot', scopes: ['ingest'] }, tenant);
  const bot = apiClient(() => server.url, key.body.token);
  const phone = newPhone();
  const at = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const sent = await bot('POST', '/api/sync/events', {
    events: [
      message(phone, 'Hello, are you open tonight?', at(6), { name: 'Layla Haddad', bot: BOT }),
      message(phone, 'Yes, until midnight.', at(5), { direction: 'OUT', bot: BOT }),
      message(newPhone(), 'مرحبا', at(4), { name: 'سارة', bot: BOT }),
    ],
  });
  expect(sent.body.rejected).toBe(0);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage();
  await login(page, server.url, OWNER);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill('SIGTERM');
  await database?.drop();
});

/** The page is no wider than the screen: nothing runs off to the side. */
async function fitsTheScreen(screen: string): Promise<void> {
  const { width, widest } = await page.evaluate(() => {
    // The element reaching furthest right that no scrolling box of its own clips.
    const clipped = (element: Element) => {
      for (let node = element.parentElement; node; node = node.parentElement) {
        if (getComputedStyle(node).overflowX !== 'visible') return true;
      }
      return false;
    };
    let widest = 'nothing';
    let right = 0;
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      const box = element.getBoundingClientRect();
      const escapes = ['absolute', 'fixed'].includes(getComputedStyle(element).position);
      if (box.right > right && (escapes || !clipped(element))) {
        right = box.right;
        const chain: string[] = [];
        for (let node: Element | null = element; node; node = node.parentElement) {
          chain.push(
            `${node.tagName.toLowerCase()}.${node.className}:${Math.round(node.getBoundingClientRect().right)}`,
          );
        }
        widest = chain.join(' < ');
      }
    }
    return { width: document.documentElement.scrollWidth, widest };
  });
  expect(width, `${screen}: ${widest} runs past the screen`).toBeLessThanOrEqual(PHONE.width);
}

describe('the dashboard on a phone', () => {
  it('folds the navigation behind a menu button that closes on navigation', async () => {
    const sections = page.getByRole('navigation', { name: 'Sections' });
    const menu = page.getByRole('button', { name: 'Menu' });
    await expect.poll(() => sections.isVisible()).toBe(false);
    await fitsTheScreen('overview');
    await screenshot(page, 'phone-overview');
    await menu.click();
    expect(await sections.isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Close menu' }).getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'phone-menu');
    await sections.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await expect.poll(() => sections.isVisible()).toBe(false);
  });

  it('shows the list, then the transcript with a way back, one at a time', async () => {
    const list = page.getByRole('region', { name: 'Conversations' });
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await list.getByText('Layla Haddad').click();
    await transcript.getByText('Yes, until midnight.').waitFor();
    expect(await list.isVisible()).toBe(false);
    await fitsTheScreen('transcript');
    await screenshot(page, 'phone-transcript');
    await page.getByRole('link', { name: '← Conversations' }).click();
    await list.getByText('Layla Haddad').waitFor();
    expect(await transcript.isVisible()).toBe(false);
    expect(page.url()).toMatch(/\/inbox$/);
  });

  it('fits every screen to the phone', async () => {
    for (const [section, heading] of [
      ['customers', 'Customers'],
      ['orders', 'Orders'],
      ['escalations', 'Escalations'],
      ['sync', 'Sync'],
      ['bots', 'Bots'],
      ['settings', 'Settings'],
    ] as const) {
      await page.goto(`${server.url}/t/sufrah/${section}`);
      await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await fitsTheScreen(section);
      await screenshot(page, `phone-${section}`);
    }
  });
});
