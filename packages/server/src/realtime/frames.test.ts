import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { FrameRun, textFrame } from './frames.ts';

// ws's own frame parser, which its clients use: exported at runtime, not declared by @types/ws.
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };

/** What a real WebSocket client makes of `bytes`: the text messages, in order. */
function receive(bytes: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false });
  const messages: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString());
  });
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(messages));
  });
}

describe('textFrame', () => {
  it('encodes every length class (7-bit, 16-bit, 64-bit) so that ws reads the text back', async () => {
    // Multi-byte characters: the length is in bytes, not characters.
    const payloads = [
      '',
      'é',
      'x'.repeat(125),
      'ü'.repeat(63),
      'y'.repeat(126),
      'ß'.repeat(40_000),
      'z'.repeat(65_536),
    ];
    expect(await receive(Buffer.concat(payloads.map(textFrame)))).toEqual(payloads);
  });
});

describe('FrameRun', () => {
  const run = new FrameRun(
    [4, 5, 6].map((seq) => ({ seq, type: 'message.created', json: JSON.stringify({ seq }), tenantId: 't' })),
  );

  it('is every change as a frame, back to back, in seq order', async () => {
    const frames = (await receive(run.wire)).map((text) => JSON.parse(text) as { seq: number; type: string });
    expect(frames).toEqual([4, 5, 6].map((seq) => ({ seq, type: 'message.created', data: { seq } })));
  });

  it('is, batched, one frame holding every change as a JSON array, in seq order', async () => {
    const [batch, ...rest] = await receive(run.batchWire);
    expect(rest).toEqual([]);
    expect(JSON.parse(batch!)).toEqual(
      [4, 5, 6].map((seq) => ({ seq, type: 'message.created', data: { seq } })),
    );
    expect(JSON.parse((await receive(run.after(5)!.batchWire))[0]!)).toEqual([
      { seq: 6, type: 'message.created', data: { seq: 6 } },
    ]);
  });

  it('keeps only the changes after a seq, reusing each change frame', async () => {
    expect(run.after(3)).toBe(run);
    expect(run.after(6)).toBeNull();
    const later = run.after(4)!;
    expect(later.events.map((event) => event.seq)).toEqual([5, 6]);
    expect(later.wire.equals(run.wire.subarray(run.wire.length - later.wire.length))).toBe(true);
  });
});
