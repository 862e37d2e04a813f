import type { ErrorDetail } from '@syncdeck/core';
import { AppError } from '../lib/errors.ts';

/**
 * A provider's request (a Twilio webhook, a Telegram update) that is not what the provider
 * documents: a 400 `validation_failed` naming each wrong field, thrown by the inbound parsers.
 * Being an AppError, a route may let it through as is; `provider` lets a route log it apart.
 *
 * @example
 * ```ts
 * try { parseTwilioInbound(body); } catch (e) {
 *   if (e instanceof InvalidChannelRequest) log.warn({ details: e.details }, 'bad Twilio webhook');
 *   throw e;
 * }
 * ```
 */
export class InvalidChannelRequest extends AppError {
  override name = 'InvalidChannelRequest';
  declare readonly details: ErrorDetail[];

  constructor(
    readonly provider: 'twilio' | 'telegram',
    details: ErrorDetail[],
  ) {
    super(
      'validation_failed',
      `The ${provider === 'twilio' ? 'Twilio' : 'Telegram'} request is not valid`,
      details,
    );
  }
}
