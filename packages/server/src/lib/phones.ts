import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

const MEMO_SIZE = 20_000;
/** Recent inputs (region, spelling) and what they normalised to, oldest first. */
const recent = new Map<string, string | null>();

/**
 * A phone in any common spelling (`whatsapp:+966501234567`, `+966 50 123 4567`,
 * `00966501234567`) as E.164, or null when it is not a phone number.
 */
export function normalisePhone(input: string, defaultRegion: string): string | null {
  const key = `${defaultRegion}\u0000${input}`;
  const known = recent.get(key);
  if (known !== undefined) return known;
  const e164 = parse(input, defaultRegion);
  // Bots send the same customers' numbers again and again, and parsing one is the costliest step
  // of preparing an event; the oldest entry makes way once the memo is full.
  if (recent.size >= MEMO_SIZE) recent.delete(recent.keys().next().value!);
  recent.set(key, e164);
  return e164;
}

function parse(input: string, defaultRegion: string): string | null {
  const withoutChannel = input.trim().replace(/^whatsapp:/i, '');
  const parsed = parsePhoneNumberFromString(withoutChannel, { defaultCountry: defaultRegion as CountryCode });
  return parsed?.isPossible() ? parsed.number : null;
}

/** How the seed's dashboards show a WhatsApp address. */
export function whatsappAddress(e164: string | null): string | null {
  return e164 ? `whatsapp:${e164}` : null;
}
