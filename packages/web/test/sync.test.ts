import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  rowChange,
  type ServerProcess,
  signSeed,
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
  login,
  platformAdmin,
  screenshot,
} from './support.ts';

/*
 * The Sync screen in a real browser against a real server: rows pushed through the signed
 * webhook for two tenants, seen by a user of one of them; charts going stale on a push and
 * fresh again when opened.
 */

const SECRET = 'optiqo-browser-secret-0123456789';
const ALPHA_OWNER = { email: 'owner@alpha.test', password: 'alpha owner password' };

let database: TestDatabase;
let server: ServerProcess;
let base = '';
let admin: Api;
let adminLogin: Login;
let browser: Browser;
let page: Page;
let alpha = '';
let beta = '';

/** Sends a row change as the source does: the raw body signed with its secret. */
async function push(payload: object): Promise<{ result: string; tenantId: string }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${base}/api/webhooks/optiqo`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-signature': `sha256=${signSeed(body, SECRET)}`,
    },
    body,
  });
  const answer = await response.json();
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

const change = (tenant: string, table: string, record: Record<string, unknown>, type = 'INSERT') =>
  rowChange(type, table, tenant, record);

beforeAll(async () => {
  await ensureBuilt({ quiet: true });
  database = await createTestDatabase();
  server = await startServerProcess({ ...database.env, PORT: String(await freePort()) }, 60_000);
  base = server.url;
  const platform = platformAdmin(server.output());
  adminLogin = platform.login;
  admin = apiClient(() => base, platform.token);
  const source = await admin('POST', '/api/admin/sources', { name: 'optiqo', secret: SECRET });
  expect(source.status, JSON.stringify(source.body)).toBe(201);

  const day = (n: number) => `2024-06-0${n}T09:00:00Z`;
  alpha = (
    await push(
      change('alpha', 'adhoc_work_orders', {
        id: 'wo-1',
        title: 'Alpha first order',
        status: 'open',
        amount: 120,
        updated_at: day(1),
      }),
    )
  ).tenantId;
  await push(
    change('alpha', 'adhoc_work_orders', {
      id: 'wo-2',
      title: 'Alpha second order',
      status: 'done',
      amount: 80,
      updated_at: day(2),
    }),
  );
  await push(
    change('alpha', 'adhoc_work_orders', {
      id: 'wo-3',
      title: 'Alpha third order, with a title long enough to be cut short in its cell',
      status: 'done',
      amount: 45.5,
      updated_at: day(3),
    }),
  );
  // Older than the stored row: ignored, and logged as such.
  const ignored = await push(
    change(
      'alpha',
      'adhoc_work_orders',
      { id: 'wo-1', title: 'stale edit', updated_at: day(1).replace('09', '08') },
      'UPDATE',
    ),
  );
  expect(ignored.result).toBe('ignored');
  await push(change('alpha', 'zone_categories', { id: 'z-1', name: 'Kitchen' }));
  beta = (
    await push(
      change('beta', 'adhoc_work_orders', {
        id: 'b-1',
        title: 'Beta only row',
        beta_secret: 7,
        status: 'open',
      }),
    )
  ).tenantId;
  await push(change('beta', 'attendance_events', { id: 'b-att', who: 'Beta worker' }));
  expect(alpha).not.toBe(beta);

  const member = await admin(
    'POST',
    '/api/admin/users',
    { ...ALPHA_OWNER, role: 'owner' },
    { 'x-tenant-id': alpha },
  );
  expect(member.status, JSON.stringify(member.body)).toBe(201);

  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1366, height: 860 } })).newPage();
  await login(page, base, ALPHA_OWNER);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill('SIGTERM');
  await database?.drop();
});

/** Nothing of the other tenant anywhere on the page. */
async function expectNoBeta(target: Page) {
  const html = await target.content();
  for (const text of ['Beta only row', 'beta_secret', 'attendance_events', 'Beta worker', beta])
    expect(html).not.toContain(text);
}

describe('the Sync screen', () => {
  it("browses the tenant's own synced tables and rows, with filters and sort, never another tenant's", async () => {
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page.waitForURL(/\/sync\/tables\/work_orders$/);
    const tables = page.getByRole('navigation', { name: 'Synced tables' });
    await expect.poll(() => tables.locator('.table-name').allInnerTexts()).toEqual(['work_orders', 'zones']);
    const rows = page.getByTestId('synced-rows');
    await rows.getByText('Alpha first order').waitFor();
    expect(await rows.locator('tbody tr').count()).toBe(3);
    expect(await rows.locator('thead th').allInnerTexts()).toEqual(
      expect.arrayContaining(['ID', 'TITLE', 'STATUS', 'AMOUNT']),
    );

    // Sorting by amount, then descending: the column header says which.
    await rows.getByRole('button', { name: 'amount' }).click();
    await expect
      .poll(() => rows.locator('tbody tr td:first-child').allInnerTexts())
      .toEqual(['wo-3', 'wo-2', 'wo-1']);
    await rows.getByRole('button', { name: 'amount' }).click();
    await expect
      .poll(() => rows.locator('tbody tr td:first-child').allInnerTexts())
      .toEqual(['wo-1', 'wo-2', 'wo-3']);
    expect(await rows.locator('th[aria-sort="descending"]').innerText()).toContain('AMOUNT');

    await page.getByLabel('Filter column').selectOption('status');
    await page.getByLabel('Filter value').fill('done');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(() => rows.locator('tbody tr').count()).toBe(2);
    await page.getByLabel('Filter column').selectOption('amount');
    await page.getByLabel('Filter operator').selectOption('gt');
    await page.getByLabel('Filter value').fill('50');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(() => rows.locator('tbody tr td:first-child').allInnerTexts()).toEqual(['wo-2']);
    // The filters live in the address: a reload keeps them.
    expect(decodeURIComponent(page.url())).toContain('filter=status:eq:done');
    await page.reload();
    await expect.poll(() => rows.locator('tbody tr td:first-child').allInnerTexts()).toEqual(['wo-2']);
    await page.getByRole('button', { name: /Remove filter amount/ }).click();
    await page.getByRole('button', { name: /Remove filter status/ }).click();
    await expect.poll(() => rows.locator('tbody tr').count()).toBe(3);
    await expectNoBeta(page);
    await screenshot(page, 'sync-tables');

    await tables.getByRole('link', { name: /zones/ }).click();
    await rows.getByText('Kitchen').waitFor();
    // A push shows without a reload or a refresh: the page follows the feed's table.synced.
    await push(change('alpha', 'zone_categories', { id: 'z-2', name: 'Terrace' }));
    await rows.getByText('Terrace').waitFor({ timeout: 5000 });

    // Beta's screen and API answer as if it did not exist.
    const status = await page.evaluate(
      async (tenant) => (await fetch('/api/synced', { headers: { 'x-tenant-id': tenant } })).status,
      beta,
    );
    expect(status).toBe(404);
    await page.goto(`${base}/t/optiqo-beta/sync`);
    await page.getByText('No tenant “optiqo-beta” here.').waitFor();
  });

  it("lists the tenant's webhook attempts, filtered, with one attempt's detail", async () => {
    await page.goto(`${base}/t/optiqo-alpha/sync/log`);
    const log = page.getByTestId('webhook-log');
    await expect.poll(() => log.locator('tbody tr').count()).toBe(6);
    await expectNoBeta(page);
    await page.getByLabel('Result').selectOption('ignored');
    await expect.poll(() => log.locator('tbody tr').count()).toBe(1);
    await log.locator('tbody tr a').first().click();
    const entry = page.getByTestId('log-entry');
    await entry.getByText('UPDATE', { exact: true }).waitFor();
    expect(await entry.innerText()).toContain('alpha');
    expect(await entry.innerText()).toContain('work_orders');
    await screenshot(page, 'sync-log-detail');
    // The detail has an address of its own: it loads from the server, not from the list.
    await page.reload();
    await entry.getByText('UPDATE', { exact: true }).waitFor();
    await entry.getByRole('link', { name: 'Close' }).click();
    await expect.poll(() => entry.count()).toBe(0);
    await page.getByLabel('Result').selectOption('');
    await page.getByLabel('Table').selectOption('zones');
    await expect.poll(() => log.locator('tbody tr').count()).toBe(2);
    await page.getByLabel('Table').selectOption('');
    await expect.poll(() => log.locator('tbody tr').count()).toBe(6);
    await screenshot(page, 'sync-log');
  });

  it('says sources need a platform admin to a tenant user, and shows them to one', async () => {
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByText('Sources need a platform admin').waitFor();
    await screenshot(page, 'sync-sources-tenant');
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const adminPage = await context.newPage();
    const gamma = await admin('POST', '/api/admin/tenants', { slug: 'gamma-kitchen', name: 'Gamma kitchen' });
    expect(gamma.status, JSON.stringify(gamma.body)).toBe(201);
    await login(adminPage, base, adminLogin);
    await adminPage.goto(`${base}/t/optiqo-alpha/sync/sources`);
    const card = adminPage.getByRole('region', { name: 'optiqo' });
    await card.getByText('adhoc_work_orders').waitFor();
    expect(await adminPage.content()).not.toContain(SECRET);
    // Where the source's tenant ids land, and sending one to an existing tenant.
    const mappings = card.getByTestId('source-tenants');
    await mappings.getByRole('row', { name: /alpha\s+optiqo-alpha\s+its first push/ }).waitFor();
    const form = card.getByRole('form', { name: 'Map a tenant id of optiqo' });
    await form.getByLabel('Source tenant id').fill('gamma');
    await form.getByLabel('Lands in tenant').selectOption('gamma-kitchen');
    await form.getByRole('button', { name: 'Map' }).click();
    await card.getByRole('status').getByText('gamma-kitchen').waitFor();
    await mappings.getByRole('row', { name: /gamma\s+gamma-kitchen\s+an admin/ }).waitFor();
    const landed = await push(change('gamma', 'adhoc_work_orders', { id: 'g-1', title: 'Gamma order' }));
    expect(landed.tenantId).toBe((gamma.body as { id: string }).id);
    await screenshot(adminPage, 'sync-sources-admin');
    await adminPage.goto(`${base}/t/gamma-kitchen/sync/log`);
    await adminPage.getByTestId('webhook-log').getByText('gamma-kitchen').waitFor();
    await context.close();
  });

  it('creates a chart, fresh once computed, stale after a push, fresh again when opened', async () => {
    await page.getByRole('link', { name: 'Charts' }).click();
    await page.getByText('No charts yet').waitFor();
    await page.getByRole('button', { name: 'New chart' }).click();
    const form = page.getByRole('form', { name: 'New chart' });
    await form.getByLabel('Name').fill('Work orders by status');
    await form.getByLabel('Table').selectOption('work_orders');
    await form.getByLabel('Metric').selectOption('sum');
    await form.getByLabel('Of column').selectOption('amount');
    await form.getByLabel('Group by').selectOption('status');
    await screenshot(page, 'sync-chart-form');
    await form.getByRole('button', { name: 'Create chart' }).click();

    const detail = page.getByRole('region', { name: 'Work orders by status' });
    await detail
      .getByTestId('chart-computed')
      .getByText(/Computed now/)
      .waitFor();
    await expect.poll(() => detail.getByTestId('cache-status').innerText()).toBe('fresh');
    await detail.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await detail.locator('.recharts-bar-rectangle').count()).toBe(2);
    expect(await detail.locator('figcaption').innerText()).toContain('done: 125.5');
    await page.mouse.move(0, 0);
    await screenshot(page, 'sync-chart');

    await detail.getByRole('link', { name: 'All charts' }).click();
    const card = page.locator('.chart-card', { hasText: 'Work orders by status' });
    await expect.poll(() => card.getByTestId('cache-status').innerText()).toBe('fresh');

    await push(
      change('alpha', 'adhoc_work_orders', { id: 'wo-4', title: 'Fourth', status: 'open', amount: 5 }),
    );
    // Stale without a refresh: the push reached the page over the socket.
    await expect.poll(() => card.getByTestId('cache-status').innerText(), { timeout: 5000 }).toBe('stale');
    await screenshot(page, 'sync-charts-stale');

    await card.getByRole('link', { name: 'Work orders by status' }).click();
    await detail
      .getByTestId('chart-computed')
      .getByText(/Computed now/)
      .waitFor();
    await expect.poll(() => detail.getByTestId('cache-status').innerText()).toBe('fresh');
    await expect.poll(() => detail.locator('figcaption').innerText()).toContain('open: 125');
    await detail.getByRole('link', { name: 'All charts' }).click();
    await expect.poll(() => card.getByTestId('cache-status').innerText()).toBe('fresh');
    await expectNoBeta(page);
  });
});
