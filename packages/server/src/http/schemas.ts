import { errorBodySchema } from '@syncdeck/core';
import { z } from 'zod';

/** Error responses for a route's OpenAPI entry; all share the one error shape. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorBodySchema]));
}

export const uuidParamsSchema = z.object({ id: z.string().uuid() });
