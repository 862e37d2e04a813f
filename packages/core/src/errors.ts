import { z } from 'zod';
import { errorCodes } from './constants.ts';

/** A stable machine-readable error code; see `errorCodes`. */
export type ErrorCode = (typeof errorCodes)[number];

/** One entry of an error's `details`: which field was wrong and why. */
export const errorDetailSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. `events.3.data.phone`'),
  message: z.string(),
});

/** The one error shape every Syncdeck route answers with. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(errorCodes).describe('Stable machine-readable code, e.g. `validation_failed`'),
    message: z.string(),
    details: z.array(errorDetailSchema).optional(),
    requestId: z.string().optional(),
  }),
});

export type ErrorDetail = z.infer<typeof errorDetailSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
