import { z } from 'zod';
import { storableString } from './fields.ts';
import { roleSchema } from './auth.ts';
import { tenantSchema } from './tenants.ts';

export const emailSchema = storableString().trim().toLowerCase().pipe(z.email().max(320));
export const passwordSchema = storableString().min(10, 'at least 10 characters').max(200);

export const userSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  platformAdmin: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const memberSchema = userSchema.extend({ role: roleSchema });
export type Member = z.infer<typeof memberSchema>;

export const membershipSchema = z.object({ tenant: tenantSchema, role: roleSchema });
export type Membership = z.infer<typeof membershipSchema>;

export const createMemberSchema = z.object({
  email: emailSchema,
  role: roleSchema,
  password: passwordSchema.optional().describe('Generated and returned once when omitted for a new user'),
});
export type CreateMemberInput = z.infer<typeof createMemberSchema>;

export const updateMemberSchema = z.object({ role: roleSchema }).strict();

export const loginSchema = z.object({ email: emailSchema, password: storableString().min(1).max(200) });
export type LoginInput = z.infer<typeof loginSchema>;

export const meSchema = z.object({
  user: userSchema.nullable(),
  apiKey: z
    .object({
      id: z.string(),
      name: z.string(),
      tenantId: z.string().nullable(),
      scopes: z.array(z.string()),
    })
    .nullable(),
  memberships: z.array(membershipSchema),
});
export type Me = z.infer<typeof meSchema>;
