/**
 * Loopback stand-ins for the providers Syncdeck sends through, for tests and the `--demo`: plain
 * node:http, no test framework.
 */
export {
  type AcceptedTwilioMessage,
  FakeTwilio,
  type FakeTwilioAccount,
  type TwilioFault,
} from './twilio.ts';
export { FakeTelegram, type TelegramCall, type TelegramFault } from './telegram.ts';
export type { RecordedRequest } from './server.ts';
