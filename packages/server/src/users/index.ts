/** What other modules may use of this one. */
export { type AddedMember, addMember, ensureUser, findUser, listMemberships } from './store.ts';
