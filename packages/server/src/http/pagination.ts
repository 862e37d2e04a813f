import { z } from 'zod';

export const MAX_PAGE_SIZE = 200;

/** `?limit=&cursor=`: keyset pagination, so pages stay correct while rows are added. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().max(500).optional(),
});

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  });
}

/**
 * Where a list answered as a bare JSON array (the shape seeds' dashboards read) puts the next
 * page's cursor; absent on the last page.
 */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';
