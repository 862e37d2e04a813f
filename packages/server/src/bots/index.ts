/** What other modules may use of this one. */
export { authTokenContext } from './routes.ts';
export {
  COLUMNS as BOT_COLUMNS,
  type BotRow,
  botObject,
  findSealedAuthToken,
  restaurantBotObject,
} from './store.ts';
