import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, ConfigError, decodeSecretKey } from '../config.ts';

/** Where the generated master key lives when `SECRET_KEY` is not set. */
export const SECRET_KEY_FILE = 'secret.key';

const FORMAT = 'v1';

/**
 * Seals secrets for storage with AES-256-GCM under the master key. A sealed value is
 * `v1:<key id>:<iv>:<tag>:<ciphertext>`: the key id names which master key sealed it, so a
 * server started with another key says so instead of failing obscurely. The context is
 * authenticated too (the tenant), so a ciphertext copied into another tenant's row does not open.
 */
export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [FORMAT, this.keyId, iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join(':');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw new Error('not a sealed secret');
    const [, keyId, iv, tag, body] = parts as [string, string, string, string, string];
    if (keyId !== this.keyId) {
      throw new Error(`sealed under master key ${keyId}, but this server's key is ${this.keyId}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}

/**
 * The master key: `SECRET_KEY` when set, else the one in `DATA_DIR/secret.key`, generated on
 * first use. Created under a temporary name and linked into place, so servers starting
 * together agree on one key and none ever reads a half-written file.
 */
export async function loadSecretBox(config: Pick<Config, 'secretKey' | 'dataDir'>): Promise<SecretBox> {
  if (config.secretKey) return new SecretBox(config.secretKey);
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  let text = await readKeyFile(file);
  if (text === null) {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    text = (await readKeyFile(file)) ?? '';
  }
  const key = decodeSecretKey(text);
  if (!key) {
    throw new ConfigError(
      `${file} does not hold a 32-byte key (64 hex digits); restore it, or set SECRET_KEY to the key the data was sealed with`,
    );
  }
  return new SecretBox(key);
}

async function readKeyFile(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
