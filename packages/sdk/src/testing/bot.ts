// A minimal bot for the tests: `bot.ts <url> <apiKey> <outboxPath> <count>` queues `count` messages
// and prints "queued" (then idles until killed); with a count of 0 it sends what its outbox holds,
// prints its stats as JSON and exits.
import { createSyncClient } from '@syncdeck/sdk';

const [url, apiKey, outboxPath, countText] = process.argv.slice(2);
const count = Number(countText);
const sync = createSyncClient({
  url: url!,
  apiKey: apiKey!,
  outboxPath: outboxPath!,
  logger: {},
  retryBaseMs: 50,
  retryMaxMs: 200,
});

if (count > 0) {
  for (let i = 0; i < count; i++) {
    sync.messageCreated({
      customer_identifier: { whatsapp_phone: '+966501110000' },
      bot: { whatsapp_number: '+966508034010' },
      direction: 'IN',
      content: `bot message ${i}`,
    });
  }
  process.stdout.write('queued\n');
  setInterval(() => {}, 1000);
} else {
  const drained = await sync.flush({ timeoutMs: 20_000 });
  const stats = await sync.close();
  process.stdout.write(`${JSON.stringify({ drained, ...stats })}\n`);
  process.exit(0);
}
