/** What other modules may use of this one. */
export { conversationStats } from './store.ts';
