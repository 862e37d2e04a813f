import { z } from 'zod';

/**
 * What a credential may do within a tenant. `admin` implies `read` and `operate`;
 * `ingest` is separate so a bot's key can never read the dashboard's data.
 */
export const scopes = ['ingest', 'read', 'operate', 'admin'] as const;
export const scopeSchema = z.enum(scopes);
export type Scope = z.infer<typeof scopeSchema>;

/** A person's role in one tenant, and the scopes it grants. */
export const roles = ['owner', 'admin', 'agent', 'viewer'] as const;
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
