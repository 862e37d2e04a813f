/**
 * The demo reads what it needs (open escalations, unfinished orders, charts) the way any API
 * client does: over HTTP with its own key, so it sees exactly what the dashboard sees.
 */
import type { Customer } from '@syncdeck/core';
import type { DemoCustomer, Restaurant } from './restaurants.ts';

export class DemoApi {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** Every page of a keyset-paginated list, up to `max` items. */
  async all<T>(path: string, max = 2000): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: { data: T[]; nextCursor: string | null } = await this.get(
        `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      items.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor && items.length < max);
    return items;
  }
}

/** The tenant's customers that are the demo's people, by their Syncdeck id. */
export async function demoCustomersById(
  api: DemoApi,
  restaurant: Restaurant,
): Promise<Map<string, DemoCustomer>> {
  const byIdentity = new Map(restaurant.customers.map((c) => [c.id, c]));
  const found = new Map<string, DemoCustomer>();
  for (const customer of await api.all<Customer>('/api/customers')) {
    const person =
      (customer.whatsappPhone && byIdentity.get(customer.whatsappPhone)) ||
      (customer.telegramChatId && byIdentity.get(customer.telegramChatId));
    if (person) found.set(customer.id, person);
  }
  return found;
}
