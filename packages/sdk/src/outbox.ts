import {
  closeSync,
  fdatasync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type SyncdeckLogger, log } from './logger.ts';

/** An event as the outbox keeps it: exactly what is sent, so a replay sends the same bytes. */
export interface StoredEvent {
  event_id: string;
  event: string;
  data: unknown;
  occurred_at: string;
}

/** Records that were removed since the last rewrite; past this the log is compacted. */
const COMPACT_AFTER = 2000;

/**
 * The queue's copy on disk: an append-only log of `{"add": event}` and `{"done": [ids]}` lines.
 *
 * An add is written with one synchronous `write` before the call that made it returns, so a crash
 * of the bot (even SIGKILL) right after cannot lose it; a torn last line is skipped on replay.
 * The file is fdatasync'ed before every send, so power loss can only lose events not yet sent.
 * The log is compacted by writing the live events to a temporary file, fsyncing it and renaming
 * it over the log, so a crash during compaction leaves either the old log or the new one.
 * A delivered event whose `done` did not reach the file is sent again after a restart: the server
 * answers `duplicate` for its `event_id`, so it is still applied once.
 */
export class FileOutbox {
  private fd: number | null = null;
  private readonly live = new Map<string, string>();
  private removedSinceCompaction = 0;
  private syncing = false;
  private readonly lockPath: string;
  errors = 0;

  constructor(
    readonly path: string,
    private readonly logger: SyncdeckLogger,
  ) {
    this.lockPath = `${path}.lock`;
  }

  /** Takes the lock, replays the log and compacts it; returns the events still to send, oldest first. */
  open(): StoredEvent[] {
    this.lock();
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const events = new Map<string, StoredEvent>();
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const record = JSON.parse(line) as { add?: StoredEvent; done?: string[] };
        if (record.add?.event_id) events.set(record.add.event_id, record.add);
        for (const id of record.done ?? []) events.delete(id);
      } catch {
        skipped++; // a line torn by a crash mid-write
      }
    }
    if (skipped > 0)
      log(this.logger, 'warn', { path: this.path, skipped }, 'outbox: skipped unreadable lines');
    for (const [id, event] of events) this.live.set(id, JSON.stringify({ add: event }));
    this.rewrite();
    return [...events.values()];
  }

  /** Appends an event; false (and logged) when the disk refused it — the event stays in memory. */
  add(event: StoredEvent): boolean {
    const line = JSON.stringify({ add: event });
    try {
      this.write(`${line}\n`);
      this.live.set(event.event_id, line);
      return true;
    } catch (error) {
      this.fail(error, 'outbox: could not write an event; it is kept in memory only');
      return false;
    }
  }

  /** Marks events as finished (delivered, rejected, dropped). */
  remove(ids: string[]): void {
    const known = ids.filter((id) => this.live.delete(id));
    if (known.length === 0) return;
    try {
      this.write(`${JSON.stringify({ done: known })}\n`);
      this.removedSinceCompaction += known.length;
      if (this.removedSinceCompaction >= COMPACT_AFTER) this.rewrite();
    } catch (error) {
      this.fail(error, 'outbox: could not record delivered events; they may be sent again (harmless)');
    }
  }

  /** Flushes written lines to the disk, in the background; one at a time. */
  syncSoon(): void {
    if (this.fd === null || this.syncing) return;
    this.syncing = true;
    fdatasync(this.fd, (error) => {
      this.syncing = false;
      if (error) this.fail(error, 'outbox: fdatasync failed');
    });
  }

  close(): void {
    if (this.fd !== null) {
      try {
        fsyncSync(this.fd);
        closeSync(this.fd);
      } catch (error) {
        this.fail(error, 'outbox: close failed');
      }
      this.fd = null;
    }
    this.unlock();
  }

  private write(text: string) {
    if (this.fd === null) this.fd = openSync(this.path, 'a');
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(this.fd, buffer, written);
  }

  /** Replaces the log with its live events: temporary file, fsync, atomic rename. */
  private rewrite() {
    const temporary = `${this.path}.tmp`;
    try {
      const lines = [...this.live.values()];
      writeFileSync(temporary, lines.length ? `${lines.join('\n')}\n` : '');
      const tmpFd = openSync(temporary, 'r+');
      fsyncSync(tmpFd);
      closeSync(tmpFd);
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      renameSync(temporary, this.path);
      syncDirectory(dirname(this.path));
      this.fd = openSync(this.path, 'a');
      this.removedSinceCompaction = 0;
    } catch (error) {
      this.fail(error, 'outbox: compaction failed; the log keeps growing until the next try');
    }
  }

  /** One process per outbox file: a second one would compact the other's events away. */
  private lock() {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.lockPath, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number(readFileSync(this.lockPath, 'utf8').trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
          throw new Error(`outbox ${this.path} is in use by process ${pid}`);
        }
        rmSync(this.lockPath, { force: true }); // left by a process that died
      }
    }
    throw new Error(`could not lock outbox ${this.path}`);
  }

  private unlock() {
    try {
      if (Number(readFileSync(this.lockPath, 'utf8').trim()) === process.pid) rmSync(this.lockPath);
    } catch {
      // already gone
    }
  }

  private fail(error: unknown, message: string) {
    this.errors++;
    log(this.logger, 'error', { path: this.path, err: error }, message);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename durable; not every platform can open a directory, which is fine. */
function syncDirectory(path: string) {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}
