import { z } from 'zod';
import { storableString } from './fields.ts';
import { scopeSchema } from './auth.ts';

export const apiKeySchema = z.object({
  id: z.string().uuid(),
  tenantId: z.string().uuid().nullable().describe('null for a platform-admin key'),
  name: z.string(),
  prefix: z.string().describe('The first characters of the token, to recognise it'),
  scopes: z.array(scopeSchema),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const createApiKeySchema = z.object({
  name: storableString().trim().min(1).max(200).default('API key'),
  scopes: z.array(scopeSchema).min(1).max(4),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;

/** Returned once, at creation: the only time the token is ever shown. */
export const createdApiKeySchema = apiKeySchema.extend({ token: z.string() });
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
