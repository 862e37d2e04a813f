import { z } from 'zod';
import { storableString } from './fields.ts';

/** Lower-case letters, digits and dashes; used in URLs, headers and view names. */
export const tenantSlugSchema = storableString()
  .min(2)
  .max(48)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'use lower-case letters, digits and dashes');

/** Whatever a tenant's amounts (order totals, revenue) are counted in when nothing else is said. */
export const DEFAULT_CURRENCY = 'USD';

/** The currencies `Intl.NumberFormat` can show, where the runtime lists them (Node 18+, modern browsers). */
const knownCurrencies: ReadonlySet<string> | null =
  typeof Intl.supportedValuesOf === 'function' ? new Set(Intl.supportedValuesOf('currency')) : null;

/**
 * An ISO 4217 code such as `SAR` or `USD`, in any case, stored upper-case. Only codes the
 * runtime's Intl knows are taken: the dashboard formats every amount with Intl.NumberFormat.
 */
export const currencySchema = storableString()
  .trim()
  .regex(/^[A-Za-z]{3}$/, 'use a three-letter ISO 4217 code such as USD or SAR')
  .transform((code) => code.toUpperCase())
  .refine((code) => !knownCurrencies || knownCurrencies.has(code), 'not an ISO 4217 currency code');

export const tenantSchema = z.object({
  id: z.string().uuid(),
  slug: tenantSlugSchema,
  name: z.string(),
  currency: z.string().describe("ISO 4217 code the tenant's amounts are in (order totals, revenue)"),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Tenant = z.infer<typeof tenantSchema>;

export const createTenantSchema = z.object({
  slug: tenantSlugSchema,
  name: storableString().trim().min(1).max(200).optional(),
  currency: currencySchema.optional().describe(`ISO 4217 code; default ${DEFAULT_CURRENCY}`),
});
export type CreateTenantInput = z.infer<typeof createTenantSchema>;

export const updateTenantSchema = z
  .object({ name: storableString().trim().min(1).max(200), currency: currencySchema })
  .partial()
  .strict();
export type UpdateTenantInput = z.infer<typeof updateTenantSchema>;
