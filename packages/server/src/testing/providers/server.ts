import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a stand-in received, as it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: Date;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** Answers JSON with `status` (and any extra headers). */
export function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Ends the connection without any answer, as a network failure looks to the client. */
export function drop(response: ServerResponse): void {
  response.socket?.destroy();
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A plain node:http server on 127.0.0.1 and a free port, recording every request before
 * `handle` answers it. No test framework here: the demo runs these too.
 */
export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(handle: Handler): Promise<LoopbackServer> {
    let self: LoopbackServer | undefined;
    const server = createServer((incoming, response) => {
      void (async () => {
        const request: RecordedRequest = {
          method: incoming.method ?? 'GET',
          path: incoming.url ?? '/',
          headers: incoming.headers,
          body: await readBody(incoming),
          at: new Date(),
        };
        self!.requests.push(request);
        await handle(request, response);
      })().catch(() => {
        if (!response.headersSent) answer(response, 500, { error: 'stand-in failed' });
        else response.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    self = new LoopbackServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Faults a stand-in answers with, in order, before it answers normally again. */
export class FaultQueue<Fault> {
  private readonly queued: Fault[] = [];
  push(...faults: Fault[]): void {
    this.queued.push(...faults);
  }
  next(): Fault | undefined {
    return this.queued.shift();
  }
  clear(): void {
    this.queued.length = 0;
  }
}
