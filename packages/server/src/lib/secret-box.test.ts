import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';
import { loadSecretBox, SECRET_KEY_FILE, SecretBox } from './secret-box.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-secret-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the master key', () => {
  it('is generated once into a 0600 file in DATA_DIR when SECRET_KEY is unset, and reused', async () => {
    const dataDir = path.join(dir, 'data');
    const boxes = await Promise.all([1, 2, 3, 4].map(() => loadSecretBox({ dataDir, secretKey: undefined })));
    const file = path.join(dataDir, SECRET_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    // Processes starting together agree on one key: what one seals, another opens.
    const sealed = boxes[0]!.seal('token', 'ctx');
    for (const box of boxes) expect(box.open(sealed, 'ctx')).toBe('token');
    const later = await loadSecretBox({ dataDir, secretKey: undefined });
    expect(later.open(sealed, 'ctx')).toBe('token');
  });

  it('comes from SECRET_KEY as hex or base64, and a bad one names the variable', async () => {
    const hex = 'ab'.repeat(32);
    const fromHex = loadConfig({ SECRET_KEY: hex }).secretKey!;
    const fromBase64 = loadConfig({ SECRET_KEY: Buffer.from(hex, 'hex').toString('base64') }).secretKey!;
    expect(fromBase64.equals(fromHex)).toBe(true);
    const box = await loadSecretBox({ dataDir: dir, secretKey: fromHex });
    expect(new SecretBox(fromBase64).open(box.seal('x', 'c'), 'c')).toBe('x');
    await expect(stat(path.join(dir, SECRET_KEY_FILE))).rejects.toThrow();
    for (const bad of ['short', 'ab'.repeat(31), 'zz'.repeat(32)]) {
      expect(() => loadConfig({ SECRET_KEY: bad })).toThrow(/SECRET_KEY/);
    }
    expect(() => loadConfig({ SECRET_KEY: 'short' })).not.toThrow(/short/);
  });

  it('refuses a damaged key file instead of sealing with a different key', async () => {
    await writeFile(path.join(dir, SECRET_KEY_FILE), 'not a key\n');
    await expect(loadSecretBox({ dataDir: dir, secretKey: undefined })).rejects.toThrow(ConfigError);
  });

  it('detects a ciphertext that was tampered with', () => {
    const box = new SecretBox(Buffer.alloc(32, 1));
    const sealed = box.seal('twilio-token', 'tenant-a');
    const parts = sealed.split(':');
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[4] = body.toString('base64url');
    expect(() => box.open(parts.join(':'), 'tenant-a')).toThrow();
    expect(() => box.open(sealed, 'tenant-b')).toThrow();
    expect(box.open(sealed, 'tenant-a')).toBe('twilio-token');
  });
});
