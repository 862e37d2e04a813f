/** What other modules may use of this one. */
export { customerEscalations, customerOrders, listEscalations, listOrders } from './store.ts';
