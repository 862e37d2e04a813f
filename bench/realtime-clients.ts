/**
 * Some of the realtime bench's WebSocket clients, in a process of their own (realtime.ts starts
 * `BENCH_WS_PROCESSES` of them):
 * parsing a few hundred thousand frames a second must not delay the process that ingests and
 * timestamps the acknowledgements. Per frame (or per array of changes, with `batch`) it only
 * looks for the message tags in the raw bytes and notes when they came; latencies, misses and
 * duplicates are worked out at the end, against the acknowledgements the ingesting process
 * sends then, and the latencies sent back whole so that the percentiles are those of every
 * delivery.
 */
import WebSocket from 'ws';
import type { ClientsRequest, ClientsResult, ClientsSetup } from './realtime.ts';

const setup = JSON.parse(process.argv[2]!) as ClientsSetup;
/** Milliseconds on the machine's monotonic clock, which the ingesting process reads too. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

// Frames start {"seq":N,"type":"…": the type is found a few bytes in, not by scanning the frame.
const TYPE_KEY = Buffer.from('"type":"');
const MESSAGE_CREATED = Buffer.from('message.created"');
const TAG = Buffer.from('"content":"bench-');
/** How long the clients wait, once ingest ended, for deliveries still on their way. */
const STRAGGLERS_MS = 10_000;

/** Which tags one client has seen: one byte per tag number, grown as tags grow. */
class Seen {
  bytes = new Uint8Array(1 << 16);
  /** Marks `tag`; false if it was already marked. */
  mark(tag: number): boolean {
    if (tag >= this.bytes.length) {
      const grown = new Uint8Array(Math.max(tag + 1, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    if (this.bytes[tag]) return false;
    this.bytes[tag] = 1;
    return true;
  }
  has(tag: number): boolean {
    return tag < this.bytes.length && this.bytes[tag] === 1;
  }
}

const seenBy: Seen[] = [];
const receiptTags: number[] = [];
const receiptTimes: number[] = [];
let duplicates = 0;
const sockets: WebSocket[] = [];

/** Notes the receipt of the message tagged at `at` (the offset of TAG in `data`). */
function receipt(seen: Seen, data: Buffer, at: number) {
  let tag = 0;
  for (let i = at + TAG.length; i < data.length; i++) {
    const digit = data[i]! - 48;
    if (digit < 0 || digit > 9) break;
    tag = tag * 10 + digit;
  }
  if (!seen.mark(tag)) {
    duplicates += 1;
    return;
  }
  receiptTags.push(tag);
  receiptTimes.push(now());
}

function onFrame(seen: Seen, data: Buffer) {
  // Only the messages carry the tag; the other changes (conversations) are not timed.
  const type = data.indexOf(TYPE_KEY) + TYPE_KEY.length;
  if (type < TYPE_KEY.length || type + MESSAGE_CREATED.length > data.length) return;
  if (data.compare(MESSAGE_CREATED, 0, MESSAGE_CREATED.length, type, type + MESSAGE_CREATED.length) !== 0)
    return;
  const at = data.indexOf(TAG, type);
  if (at >= 0) receipt(seen, data, at);
}

/** An array of changes (`batch=true`): every message in it, each tag once. */
function onBatch(seen: Seen, data: Buffer) {
  for (let at = data.indexOf(TAG); at >= 0; at = data.indexOf(TAG, at + TAG.length)) receipt(seen, data, at);
}

await Promise.all(
  Array.from({ length: setup.clients }, (_, c) => {
    const socket = new WebSocket(`${setup.wsUrl}/api/realtime${setup.batch ? '?batch=true' : ''}`, {
      headers: { authorization: `Bearer ${setup.tokens[c % setup.tokens.length]}` },
      // The server is what is measured; checking its UTF-8 here would only slow the clients.
      skipUTF8Validation: true,
    });
    sockets.push(socket);
    const seen = new Seen();
    seenBy.push(seen);
    const handle = setup.batch ? onBatch : onFrame;
    socket.on('message', (data) => handle(seen, data as Buffer));
    return new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  }),
);
process.send!({ type: 'ready' });

function countMissed(ackedTagsOf: number[][]): number {
  let missed = 0;
  for (const [c, seen] of seenBy.entries()) {
    for (const tag of ackedTagsOf[c % setup.tokens.length]!) if (!seen.has(tag)) missed += 1;
  }
  return missed;
}

process.on('message', async (request: ClientsRequest) => {
  const ackAt = new Float64Array(request.lastTag + 1).fill(Number.NaN);
  const ackedTagsOf: number[][] = setup.tokens.map(() => []);
  for (const ack of request.acks) {
    for (let tag = ack.first; tag < ack.first + ack.count; tag++) {
      ackAt[tag] = ack.at;
      ackedTagsOf[ack.tenant]!.push(tag);
    }
  }
  // A change still on its way is late, not missed: wait for it (its latency says how late).
  const deadline = performance.now() + STRAGGLERS_MS;
  let missed = countMissed(ackedTagsOf);
  while (missed > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    missed = countMissed(ackedTagsOf);
  }
  const latencies = new Float64Array(receiptTags.length);
  let delivered = 0;
  let beforeAck = 0;
  for (const [i, tag] of receiptTags.entries()) {
    const acked = ackAt[tag]!;
    if (Number.isNaN(acked)) continue; // its request failed: not counted either way
    const latency = receiptTimes[i]! - acked;
    if (latency < 0) beforeAck += 1;
    latencies[delivered++] = Math.max(0, latency);
  }
  const result: ClientsResult = {
    latencies: latencies.slice(0, delivered),
    beforeAck,
    missed,
    duplicates,
  };
  for (const socket of sockets) socket.terminate();
  process.send!({ type: 'result', result }, () => process.exit(0));
});
