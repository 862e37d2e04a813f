import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { type ZodType, z } from 'zod';

/**
 * Writes responses with fast-json-stringify from each route's zod response schema, turned into
 * JSON Schema once when the route is registered. Like zod's encode, it writes only the fields
 * the schema declares, so nothing a store selected by the way reaches a client; unlike it, it
 * does not re-validate every value of every row first, which took a fifth of the server's CPU
 * on a page of 50 conversations. The tests run every route through it.
 */
export const serializerCompiler: FastifySerializerCompiler<ZodType> = ({ schema }) =>
  fastJson(
    z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' }) as Parameters<
      typeof fastJson
    >[0],
  );
