import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { credentialsIn, testSettings } from '@syncdeck/server/testing';

export const CHROMIUM = '/usr/bin/chromium';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const screenshotDir = path.join(repoRoot, '.test-output', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A port free right now, so a restarted server comes back where the page expects it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Saves what the page shows, named by the database the suite runs on. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({
    path: path.join(screenshotDir, `${testSettings.db}-${name}.png`),
    fullPage: false,
  });
}

/** Answers are read field by field in the tests. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Answer = { status: number; body: any };
export type Api = (
  method: string,
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Answer>;

export function apiClient(base: () => string, token: string): Api {
  return async (method, url, body, headers = {}) => {
    const response = await fetch(`${base()}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

export interface Login {
  email: string;
  password: string;
}

/** Signs in through the login form and waits for the first screen. */
export async function login(page: Page, base: string, who: Login): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** The platform admin's login and API key, which a server's first start prints once. */
export function platformAdmin(banner: string): { login: Login; token: string } {
  const { email, password, key } = credentialsIn(banner);
  if (!email || !password || !key) throw new Error(`the server printed no admin credentials:\n${banner}`);
  return { login: { email, password }, token: key };
}
