import { z } from 'zod';
import { storableString } from './fields.ts';

/** Lower-case letters, digits and dashes; used in URLs, headers and view names. */
export const tenantSlugSchema = storableString()
  .min(2)
  .max(48)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'use lower-case letters, digits and dashes');

export const tenantSchema = z.object({
  id: z.string().uuid(),
  slug: tenantSlugSchema,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Tenant = z.infer<typeof tenantSchema>;

export const createTenantSchema = z.object({
  slug: tenantSlugSchema,
  name: storableString().trim().min(1).max(200).optional(),
});
export type CreateTenantInput = z.infer<typeof createTenantSchema>;

export const updateTenantSchema = z
  .object({ name: storableString().trim().min(1).max(200) })
  .partial()
  .strict();
export type UpdateTenantInput = z.infer<typeof updateTenantSchema>;
