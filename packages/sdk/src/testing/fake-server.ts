import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** What to do with a request: answer, or `'hang'` (never answer), or `'destroy'` (reset the socket). */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'destroy';

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Replaces the handler; the default answers each event as the real server would: accepted. */
  handle(handler: (request: RecordedRequest) => Reply | Promise<Reply>): void;
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers like the ingest: a single event `{status}`, a batch `{results}`; every event accepted. */
export function acceptAll(request: RecordedRequest): Reply {
  const body = JSON.parse(request.body) as { events?: { event_id?: string }[]; event_id?: string };
  if (!body.events) return { status: 200, body: { status: 'accepted', event_id: body.event_id } };
  return {
    status: 200,
    body: {
      accepted: body.events.length,
      duplicate: 0,
      rejected: 0,
      results: body.events.map((event, index) => ({ index, status: 'accepted', event_id: event.event_id })),
    },
  };
}

/** The events a recorded request carried, single or batch. */
export function eventsOf(
  request: RecordedRequest,
): { event: string; event_id: string; data: Record<string, unknown> }[] {
  const body = JSON.parse(request.body);
  return body.events ?? [body];
}

/** A local HTTP server that records every request and answers as the test says. */
export async function startFakeServer(port = 0): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let handler: (request: RecordedRequest) => Reply | Promise<Reply> = acceptAll;
  const waiters: { count: number; resolve: () => void }[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(recorded);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const reply = await handler(recorded);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    handle(next) {
      handler = next;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${requests.length} of ${count} requests arrived`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A logger that keeps what it was told. */
export function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
