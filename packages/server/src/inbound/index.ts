/** What other modules may use of this one: the inbound channel routes, for app.ts. */
export { inboundRoutes } from './routes.ts';
export { EMPTY_TWIML } from './twilio-routes.ts';
