import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * A phone in any common spelling (`whatsapp:+966501234567`, `+966 50 123 4567`,
 * `00966501234567`) as E.164, or null when it is not a phone number.
 */
export function normalisePhone(input: string, defaultRegion: string): string | null {
  const withoutChannel = input.trim().replace(/^whatsapp:/i, '');
  const parsed = parsePhoneNumberFromString(withoutChannel, { defaultCountry: defaultRegion as CountryCode });
  return parsed?.isPossible() ? parsed.number : null;
}

/** How the seed's dashboards show a WhatsApp address. */
export function whatsappAddress(e164: string | null): string | null {
  return e164 ? `whatsapp:${e164}` : null;
}
