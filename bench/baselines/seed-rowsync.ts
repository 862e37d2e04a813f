// The seed's way for row sync: verify the HMAC, then for FULL_SYNC clear the tenant's rows at
// offset 0 and write each record with its own upsert, one after another; a single change is
// one upsert (or delete). What the seed's edge function does through its database client.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

const secret = process.argv[3] ?? 'seed-secret';
const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
await pool.query(`CREATE SCHEMA IF NOT EXISTS optiqoflow;
  CREATE TABLE IF NOT EXISTS optiqoflow.work_orders (
    tenant_id text NOT NULL, id text NOT NULL, data jsonb NOT NULL, PRIMARY KEY (tenant_id, id));
  CREATE TABLE IF NOT EXISTS optiqoflow.webhook_logs (
    id bigserial PRIMARY KEY, event_type text, table_name text, rows int, created_at timestamptz DEFAULT now())`);

interface Payload {
  type: string;
  table: string;
  tenant_id: string;
  record?: Record<string, unknown>;
  old_record?: Record<string, unknown>;
  offset?: number;
  records?: Record<string, unknown>[];
}

const upsert = `INSERT INTO optiqoflow.work_orders (tenant_id, id, data) VALUES ($1, $2, $3)
  ON CONFLICT (tenant_id, id) DO UPDATE SET data = EXCLUDED.data`;

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const body = Buffer.concat(chunks);
      const given = Buffer.from(
        String(request.headers['x-webhook-signature'] ?? '').replace(/^sha256=/, ''),
        'hex',
      );
      const expected = createHmac('sha256', secret).update(body).digest();
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        response.writeHead(401);
        response.end();
        return;
      }
      const payload = JSON.parse(body.toString('utf8')) as Payload;
      if (payload.type === 'FULL_SYNC') {
        if (payload.offset === 0)
          await pool.query('DELETE FROM optiqoflow.work_orders WHERE tenant_id = $1', [payload.tenant_id]);
        for (const record of payload.records ?? [])
          await pool.query(upsert, [payload.tenant_id, String(record.id), JSON.stringify(record)]);
      } else if (payload.type === 'DELETE') {
        await pool.query('DELETE FROM optiqoflow.work_orders WHERE tenant_id = $1 AND id = $2', [
          payload.tenant_id,
          String(payload.old_record?.id),
        ]);
      } else {
        await pool.query(upsert, [
          payload.tenant_id,
          String(payload.record?.id),
          JSON.stringify(payload.record),
        ]);
      }
      await pool.query(
        'INSERT INTO optiqoflow.webhook_logs (event_type, table_name, rows) VALUES ($1, $2, $3)',
        [payload.type, payload.table, payload.records?.length ?? 1],
      );
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
