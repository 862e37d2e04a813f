import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Where `npm run build -w packages/web` puts the dashboard. */
export const webDist = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** The dashboard's own paths: each answers its index.html and the router in the page takes over. */
const pagePaths = ['/', '/login', '/all', '/t/*'];

/**
 * Serves the built dashboard: hashed assets cached for good, the page itself never. Only the
 * dashboard's paths fall back to the page, so an unknown API route still answers a JSON 404.
 */
export const webRoutes: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  const root = options.root ?? webDist;
  const index = path.join(root, 'index.html');
  await app.register(fastifyStatic, {
    root: path.join(root, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    immutable: true,
    maxAge: '365d',
  });
  for (const url of pagePaths) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
      // Read each time: a rebuild while the server runs is served at once.
      if (existsSync(index)) return reply.send(await readFile(index));
      return reply.send(notBuiltPage(app.config.publicUrl));
    });
  }
};

function notBuiltPage(publicUrl: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Syncdeck</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}</style>
</head><body><h1>Syncdeck</h1><p>The server is running at ${publicUrl}, but the dashboard is not built:
run <code>npm run build -w packages/web</code> (<code>npm start</code> does it for you).</p>
<ul><li><a href="/api/docs">API reference</a></li><li><a href="/readyz">Readiness</a></li></ul></body></html>`;
}
