import type { ErrorBody, ErrorCode, ErrorDetail } from '@syncdeck/core';

/** An answer other than 2xx, with the server's error body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The server's code; `http_error` when the answer carried no error body (a proxy's 502), `network` when none came. */
    readonly code: ErrorCode | 'http_error' | 'network',
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** The message for one field, matched on the end of its path (`body.whatsappNumber`, `whatsappNumber`). */
  field(name: string): string | undefined {
    return this.details.find((d) => d.path === name || d.path.endsWith(`.${name}`))?.message;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Id or slug of the tenant to act on; sent as X-Tenant-Id. */
  tenant?: string | undefined;
  /** An array repeats its parameter (`filter=a&filter=b`). */
  query?: Record<string, string | number | boolean | readonly string[] | undefined | null>;
  signal?: AbortSignal | undefined;
}

export interface Answer<T> {
  data: T;
  headers: Headers;
}

function url(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Called when an answer says the session is gone, so the app can show the login. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.tenant) headers['x-tenant-id'] = options.tenant;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The server cannot be reached');
  }
  if (response.status === 204) return { data: undefined as T, headers: response.headers };
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = (body as ErrorBody | null)?.error;
    if (response.status === 401 && path !== '/api/auth/login' && path !== '/api/session') onUnauthorized();
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `The server answered ${response.status}`,
      error?.details ?? [],
    );
  }
  return { data: body as T, headers: response.headers };
}

export async function get<T>(
  path: string,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<T> {
  return (await request<T>(path, options)).data;
}

/** One page of a list: `{data, nextCursor}` lists and the seed's bare arrays with `X-Next-Cursor` alike. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export async function getPage<T>(
  path: string,
  options: Omit<RequestOptions, 'method' | 'body'>,
): Promise<Page<T>> {
  const answer = await request<T[] | { data: T[]; nextCursor: string | null }>(path, options);
  if (Array.isArray(answer.data)) return { items: answer.data, next: answer.headers.get('x-next-cursor') };
  return { items: answer.data.data, next: answer.data.nextCursor };
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong';
}
