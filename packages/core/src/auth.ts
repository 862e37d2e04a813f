import { z } from 'zod';
import { roles, scopes } from './constants.ts';

export const scopeSchema = z.enum(scopes);
export type Scope = z.infer<typeof scopeSchema>;

export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

export const scopesOfRole: Record<Role, readonly Scope[]> = {
  owner: ['read', 'operate', 'admin'],
  admin: ['read', 'operate', 'admin'],
  agent: ['read', 'operate'],
  viewer: ['read'],
};

/** True when a credential holding `held` may act with `wanted`. */
export function scopeAllows(held: readonly Scope[], wanted: Scope): boolean {
  if (held.includes(wanted)) return true;
  return held.includes('admin') && (wanted === 'read' || wanted === 'operate');
}
