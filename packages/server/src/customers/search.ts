import { normalisePhone } from '../lib/phones.ts';

/** `ILIKE` patterns for a search box: the text as typed, and the phone it spells, if it spells one. */
export interface SearchPatterns {
  text: string;
  phone: string;
}

function contains(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function searchPatterns(q: string, phoneRegion: string): SearchPatterns {
  // "050 123 4567" finds the customer stored as +966501234567.
  const e164 = /^[\d\s()+\-.]+$/.test(q) ? normalisePhone(q, phoneRegion) : null;
  return { text: contains(q), phone: contains(e164 ?? q) };
}

/**
 * The text a customer is found by; the same expression as the trigram index
 * customers_search_trgm_idx, so the planner uses it. `alias` is the customers table.
 */
export function customerSearchText(alias: string): string {
  return `(COALESCE(${alias}.display_name, '') || ' ' || COALESCE(${alias}.phone, '') || ' ' || COALESCE(${alias}.whatsapp_phone, ''))`;
}
