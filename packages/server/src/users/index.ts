/** What other modules may use of this one. */
export {
  type AddedMember,
  addMember,
  ensureUser,
  findUser,
  listMembers,
  listMemberships,
  setPassword,
} from './store.ts';
