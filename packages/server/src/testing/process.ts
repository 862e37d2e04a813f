import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const syncdeckBin = fileURLToPath(new URL('../../bin/syncdeck.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed on stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** A fixed master key: on PostgreSQL, DATA_DIR is unset and the server would generate one in ./data. */
const PROCESS_SECRET_KEY = '5ec2e7'.padEnd(64, '1');

/** Environment for a spawned process: no inherited Syncdeck settings, only what the test gives. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, DATA_DIR: _dir, PORT: _port, SECRET_KEY: _key, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'warn', SECRET_KEY: PROCESS_SECRET_KEY, VALIDATE_RESPONSES: 'true', ...env };
}

/** Spawns `syncdeck start` (with `args`, e.g. `--demo`) and resolves once it prints its URL. */
export function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
  args: string[] = [],
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, syncdeckBin, 'start', ...args], {
    env: childEnv({ PORT: '0', ...env }),
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (signal) text += `\n[terminated by ${signal}]`;
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = /Syncdeck is running: dashboard (http:\/\/\S+?)\/ /.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output: () => text,
          exited,
          kill(signal) {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before starting:\n${text}`));
    });
  });
}

/** The admin login and API key a first start prints, shown only that once; absent ones are undefined. */
export function credentialsIn(output: string): { email?: string; password?: string; key?: string } {
  return {
    email: /Admin login: +(\S+)/.exec(output)?.[1],
    password: /Password: +(\S+)/.exec(output)?.[1],
    key: /Admin API key: (sdk_live_\S+)/.exec(output)?.[1],
  };
}

/** The admin API key a first start prints, shown only that once. */
export function adminKeyOf(server: ServerProcess): string {
  const { key } = credentialsIn(server.output());
  if (!key) throw new Error(`the server printed no admin API key:\n${server.output()}`);
  return key;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `syncdeck` CLI to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, [syncdeckBin, ...args], { env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
