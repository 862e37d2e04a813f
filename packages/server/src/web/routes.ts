import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build -w packages/web` puts the dashboard. */
export const webDist = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** The dashboard's own paths: each answers its index.html and the router in the page takes over. */
const pagePaths = ['/', '/login', '/all', '/t/*'];

/**
 * Paths that are never a page: the API and the other machine-facing routes, the bundle's files,
 * and anything named like a file (`/favicon.ico`). An unknown one answers the JSON 404; any other
 * unknown path is someone at the dashboard who followed a stale link or mistyped.
 */
const notPages = /^\/(?:api|functions|assets|ws|healthz|readyz)(?:\/|$)|\.[A-Za-z0-9]+$/;

/** True for a client that would rather have HTML than JSON: a browser, or one that says nothing. */
function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return !accept || /text\/html|\*\/\*/.test(accept);
}

/** The not-built page's one inline style, allowed by its hash rather than by allowing inline styles. */
const notBuiltStyle =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}';
const notBuiltStyleHash = `'sha256-${createHash('sha256').update(notBuiltStyle).digest('base64')}'`;

/** A Host header that is a plain host[:port], safe to write into a header value. */
const plainHost = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The page's Content-Security-Policy. The built dashboard is one script and one stylesheet from
 * /assets/ with no inline script or style element (React and Recharts set styles through the
 * DOM, which CSP does not restrict); its icon is a data: URL. It talks only to this server: its
 * API and the realtime socket, whose ws:/wss: origin is listed as well because browsers that
 * predate CSP 3 do not count it as 'self'. It may not be framed (clickjacking).
 */
export function dashboardCsp(request: FastifyRequest, styleSrc = "'self'"): string {
  const host = request.headers.host;
  const sockets = host && plainHost.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src ${styleSrc}`,
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the built dashboard: hashed assets cached for good, the page itself never. Unknown
 * paths get the page too (with 404), except API and file paths, which answer the JSON 404.
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
  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
    // Read each time: a rebuild while the server runs is served at once.
    if (existsSync(index)) {
      return reply.header('content-security-policy', dashboardCsp(request)).send(await readFile(index));
    }
    reply.header('content-security-policy', dashboardCsp(request, `'self' ${notBuiltStyleHash}`));
    return reply.send(notBuiltPage(app.config.publicUrl));
  };
  for (const url of pagePaths) app.get(url, { schema: { hide: true } }, page);
  // Any other path: the dashboard with status 404, whose router shows its not-found page and a
  // way back. Every route registered elsewhere is matched before this wildcard.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const pathname = request.url.split('?')[0]!;
    if (notPages.test(pathname) || !acceptsHtml(request)) return reply.callNotFound();
    reply.code(404);
    return page(request, reply);
  });
};

function notBuiltPage(publicUrl: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Syncdeck</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${notBuiltStyle}</style>
</head><body><h1>Syncdeck</h1><p>The server is running at ${publicUrl}, but the dashboard is not built:
run <code>npm run build -w packages/web</code> (<code>npm start</code> does it for you).</p>
<ul><li><a href="/api/docs">API reference</a></li><li><a href="/readyz">Readiness</a></li></ul></body></html>`;
}
