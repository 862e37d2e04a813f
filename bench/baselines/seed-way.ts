// The seed's way: a plain handler that checks the key and writes each event in its own
// transaction as it arrives (one INSERT per request), as the seed's edge function does.
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
await pool.query(`CREATE TABLE IF NOT EXISTS seed_sync_events (
  id bigserial PRIMARY KEY, api_key text NOT NULL, event text NOT NULL, data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`);

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event: string; data: unknown };
      const key = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      await pool.query('INSERT INTO seed_sync_events (api_key, event, data) VALUES ($1, $2, $3)', [
        key,
        body.event,
        JSON.stringify(body.data),
      ]);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"success":true}');
    } catch {
      response.writeHead(500);
      response.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
