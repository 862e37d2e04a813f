import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.ts';

/**
 * Accepts `application/x-www-form-urlencoded` bodies (Twilio's webhooks and status
 * callbacks) as a flat object; a repeated key keeps its first value, as Twilio never
 * repeats one.
 *
 * Register it only inside the plugin of the routes that need it: the app is JSON-only on
 * purpose (a cross-site form post cannot ride on an operator's cookie), and Fastify keeps a
 * content-type parser to the plugin it was added in. `URLSearchParams` does the decoding,
 * so no dependency is needed for it.
 */
export function registerFormBody(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, raw, done) => {
      try {
        // No prototype: a field named `__proto__` stays a field.
        const fields: Record<string, string> = Object.create(null);
        for (const [key, value] of new URLSearchParams(String(raw))) {
          if (!(key in fields)) fields[key] = value;
        }
        done(null, fields);
      } catch {
        done(new AppError('bad_request', 'The form body could not be read'), undefined);
      }
    },
  );
}
