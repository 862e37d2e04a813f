/** The wire shapes of a source's tenant mappings (admin API and CLI). */
import { storableString, tenantSlugSchema } from '@syncdeck/core';
import { z } from 'zod';

/**
 * A source's own tenant id, as the webhook reads `tenant_id` (trimmed, 1–100 characters, a
 * number taken as its digits), so a mapping names exactly what pushes will carry.
 */
export const externalTenantIdSchema = z
  .union([storableString().trim().min(1).max(100), z.number().int()])
  .transform(String);

export const tenantRefSchema = z.object({ id: z.string().uuid(), slug: z.string(), name: z.string() });

export const sourceTenantMappingSchema = z.object({
  externalId: z.string(),
  tenant: tenantRefSchema,
  origin: z
    .enum(['push', 'admin'])
    .describe('`push`: the tenant was created by the first push of this id; `admin`: mapped by an admin'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const mapSourceTenantBodySchema = z
  .object({ tenant: tenantSlugSchema.or(z.string().uuid()).describe('The tenant’s slug or id') })
  .strict();

export const mappedSourceTenantSchema = sourceTenantMappingSchema.extend({
  previousTenant: tenantRefSchema
    .nullable()
    .describe('Where this id’s pushes landed before; the rows already there stay there'),
});
