/**
 * Operators answer customers: a reply is stored with its conversation's changes and its outbox
 * delivery in one transaction; the outbox's outcomes and Twilio's status callbacks move its
 * delivery status; handing back returns the conversation to its bot.
 */
export { replyRoutes, TWILIO_STATUS_PATH } from './routes.ts';
export { createReplyWorker } from './worker.ts';
