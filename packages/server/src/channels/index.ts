/**
 * The providers Syncdeck talks to for conversations: Twilio (WhatsApp), Telegram's Bot API, and
 * bots' own webhooks (Standard Webhooks). Each client answers in the outbox's SendResult terms,
 * so an outbox handler is a lookup of credentials plus one call.
 */
export {
  DEFAULT_TELEGRAM_API_BASE_URL,
  DEFAULT_TELEGRAM_TIMEOUT_MS,
  generateTelegramSecretToken,
  TelegramClient,
  verifyTelegramSecretToken,
} from './telegram.ts';
export {
  DEFAULT_TWILIO_API_BASE_URL,
  DEFAULT_TWILIO_TIMEOUT_MS,
  TWILIO_ERROR_REASONS,
  TwilioClient,
  type TwilioClientOptions,
  type TwilioMessage,
  type TwilioParams,
  twilioErrorReason,
  twilioSignature,
  verifyTwilioSignature,
} from './twilio.ts';
export {
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  generateWebhookSecret,
  signStandardWebhook,
  type WebhookDelivery,
  WebhookSender,
} from './webhook.ts';
export {
  type TelegramDeliveryPayload,
  type TwilioDeliveryPayload,
  type TwilioSender,
  telegramHandler,
  twilioHandler,
  type WebhookDeliveryPayload,
  webhookHandler,
} from './handlers.ts';
export {
  applyDeliveryReport,
  DELIVERY_STATUS_RANK,
  type DeliveryReport,
  type DeliveryState,
  deliveryStatuses,
  deliveryStatusRankSql,
  isDeliveryStatus,
  isFailedDelivery,
  type MessageDeliveryStatus,
  nextDeliveryStatus,
  restartDelivery,
} from './delivery-status.ts';
export { InvalidChannelRequest } from './inbound-error.ts';
export {
  type Channel,
  type OperatorReply,
  planReply,
  type ReplyBot,
  type ReplyConversation,
  ReplyNotPossible,
  type ReplyPlan,
  type ReplyProblem,
  type ReplyWebhookEvent,
  TELEGRAM_MAX_CAPTION,
  TELEGRAM_MAX_TEXT,
  TWILIO_MAX_BODY,
} from './reply.ts';
export {
  largestPhotoSize,
  parseTelegramUpdate,
  type TelegramIgnoreReason,
  type TelegramInbound,
  telegramBotIdFromToken,
} from './telegram-inbound.ts';
export {
  type IgnoredTwilioStatus,
  type InboundMessageEvent,
  messageTypeOfContentType,
  parseTwilioInbound,
  parseTwilioStatusCallback,
  type TwilioStatusUpdate,
} from './twilio-inbound.ts';
