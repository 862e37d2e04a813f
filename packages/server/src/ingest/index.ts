/** What other modules may use of this one. */
export { applyEscalations } from './escalations.ts';
export type { PreparedEvent } from './prepare.ts';
export { pruneEventIds } from './retention.ts';
export {
  CONVERSATION_JSON_COLUMNS,
  conversationObject,
  type ConversationRow,
  customerObject,
  type CustomerRow,
  escalationObject,
  type EscalationRow,
  MESSAGE_JSON_COLUMNS,
  messageObject,
  type MessageRow,
  orderObject,
  type OrderRow,
} from './shapes.ts';
export { CONVERSATION_COLUMNS, pushConversation } from './store.ts';
export { EventRejected, prepareEvent } from './prepare.ts';
export type { GroupCommitWriter, WriteOutcome } from './writer.ts';
