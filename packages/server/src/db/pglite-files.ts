import fs from 'node:fs';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

/**
 * PGlite's data directory holds every tenant's data, so it is its owner's alone: directories
 * 0700, files 0600, whatever the umask the server was started with.
 */

/** The owner's bits of `mode`, given as a number or an octal string as Node allows. */
function ownerOnly(mode: fs.Mode): number {
  return (typeof mode === 'string' ? Number.parseInt(mode, 8) : mode) & 0o700;
}

/**
 * For the PGlite thread, before PGlite starts: whatever mode its file layer creates or sets a
 * file with keeps only the owner's bits. A umask is not enough: that layer creates each file,
 * then sets it to the mode PostgreSQL asked for (0666) with chmod, which no umask touches. In
 * that thread only PGlite uses `fs`, so the rest of the server is untouched.
 */
export function keepPgliteFilesPrivate(): void {
  const { chmodSync, fchmodSync, mkdirSync, openSync, writeFileSync } = fs;
  fs.chmodSync = (file, mode) => chmodSync(file, ownerOnly(mode));
  fs.fchmodSync = (fd, mode) => fchmodSync(fd, ownerOnly(mode));
  fs.mkdirSync = ((dir: fs.PathLike, options?: fs.Mode | fs.MakeDirectoryOptions | null) =>
    mkdirSync(
      dir,
      options !== null && typeof options === 'object'
        ? { ...options, mode: ownerOnly(options.mode ?? 0o777) }
        : { mode: ownerOnly(options ?? 0o777) },
    )) as typeof fs.mkdirSync;
  fs.openSync = (file, flags, mode) => openSync(file, flags, ownerOnly(mode ?? 0o666));
  fs.writeFileSync = (file, data, options) =>
    writeFileSync(
      file,
      data,
      options !== null && typeof options === 'object'
        ? { ...options, mode: ownerOnly(options.mode ?? 0o666) }
        : { encoding: options ?? null, mode: ownerOnly(0o666) },
    );
  // PGlite reaches `fs` both through require and through import: both see these.
  syncBuiltinESMExports();
}

/** Sets `file`'s permission bits to `mode` where they differ; a file removed meanwhile is skipped. */
async function tighten(file: string, mode: number): Promise<void> {
  try {
    if (((await stat(file)).mode & 0o777) !== mode) await chmod(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Makes `dir` and everything under it its owner's alone: directories 0700, files 0600. */
async function restrictToOwner(dir: string): Promise<void> {
  await tighten(dir, 0o700);
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) return restrictToOwner(child);
      // Links are left alone: chmod would follow one out of the directory.
      return entry.isFile() ? tighten(child, 0o600) : undefined;
    }),
  );
}

/**
 * Before PGlite opens `dataDir`: creates it 0700 if need be, and tightens what is in it, so an
 * install made before, or one whose files were loosened since, is repaired on every start.
 */
export async function preparePgliteDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await restrictToOwner(dataDir);
}
