import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { safeEqual } from '../lib/secrets.ts';
import { AppError } from '../lib/errors.ts';
import { isCliCommandName, runCliCommand } from './commands.ts';

export const CONTROL_HEADER = 'x-syncdeck-control';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Lets the `syncdeck` CLI on this machine act while a PGlite server holds DATA_DIR. Only the
 * token in the 0600 control file opens it, and only over a local connection.
 */
export const controlRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/internal/cli',
    {
      schema: {
        hide: true,
        body: z.object({ command: z.string().max(50), args: z.record(z.string(), z.unknown()) }),
      },
    },
    async (request) => {
      const token = request.headers[CONTROL_HEADER];
      const remote = request.socket.remoteAddress ?? '';
      const local = LOOPBACK.has(remote) || remote === request.socket.localAddress;
      if (!app.controlToken || typeof token !== 'string' || !local || !safeEqual(token, app.controlToken)) {
        throw AppError.notFound('Route');
      }
      const { command, args } = request.body;
      if (!isCliCommandName(command)) throw AppError.badRequest(`Unknown command "${command}"`);
      request.log.info({ command }, 'running CLI command for the local CLI');
      return { result: await runCliCommand(app.db, command, args, app.config) };
    },
  );
};
