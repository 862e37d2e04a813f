import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config.ts';
import { registerErrorHandling } from '../http/errors.ts';
import { webRoutes } from './routes.ts';

let dir: string;

async function appOn(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.decorate('config', { publicUrl: 'http://localhost:8080' } as Config);
  registerErrorHandling(app);
  app.get('/api/db/conversations', async () => []);
  await app.register(webRoutes, { root });
  await app.ready();
  return app;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-web-'));
  await mkdir(path.join(dir, 'built', 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'built', 'index.html'), '<!doctype html><div id="root"></div>');
  await writeFile(path.join(dir, 'built', 'assets', 'index-abc123.js'), 'console.log(1)');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the dashboard bundle', () => {
  it('answers its page on the dashboard paths, uncached, and its hashed assets cached for good', async () => {
    const app = await appOn(path.join(dir, 'built'));
    for (const url of ['/', '/login', '/all', '/t/sufrah/inbox/7f1c', '/t/sufrah/overview?days=7']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="root">');
      const policy = String(response.headers['content-security-policy']);
      expect(policy, url).toContain("script-src 'self';");
      expect(policy, url).toContain("style-src 'self';");
      expect(policy, url).toContain("frame-ancestors 'none'");
    }
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    await app.close();
  });

  it('leaves API routes, API and file paths to the JSON 404', async () => {
    const app = await appOn(path.join(dir, 'built'));
    expect((await app.inject({ method: 'GET', url: '/api/db/conversations' })).json()).toEqual([]);
    for (const url of [
      '/api/nope',
      '/api',
      '/api/db/nope?x=1',
      '/functions/v1/nope',
      '/assets/missing.js',
      '/favicon.ico',
      '/healthz/x',
    ]) {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code, url).toBe('route_not_found');
    }
    const post = await app.inject({ method: 'POST', url: '/nope', headers: { accept: 'text/html' } });
    expect(post.json().error.code).toBe('route_not_found');
    await app.close();
  });

  it('answers any other unknown path with the dashboard, as a 404, for its not-found page', async () => {
    const app = await appOn(path.join(dir, 'built'));
    for (const url of ['/nope', '/inbox/x/y', '/apis', '/customers?q=1']) {
      for (const accept of [undefined, 'text/html,application/xhtml+xml,*/*;q=0.8', '*/*']) {
        const response = await app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
        expect(response.statusCode, url).toBe(404);
        expect(response.headers['content-type'], url).toMatch(/^text\/html/);
        expect(response.body).toContain('<div id="root">');
        expect(String(response.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      }
    }
    // A client asking for JSON only gets JSON.
    const json = await app.inject({ method: 'GET', url: '/nope', headers: { accept: 'application/json' } });
    expect(json.json().error.code).toBe('route_not_found');
    await app.close();
  });

  it('says how to build it when it is not built', async () => {
    const app = await appOn(path.join(dir, 'missing'));
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('npm run build -w packages/web');
    // Its one inline style is allowed by its hash, not by allowing inline styles.
    const style = /<style>(.*)<\/style>/.exec(response.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(response.headers['content-security-policy']).toContain(`style-src 'self' 'sha256-${hash}';`);
    await app.close();
  });
});
