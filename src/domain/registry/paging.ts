import { RegistryError } from './errors.js';

/** Opaque page tokens: the offset into a stable ordering, plus what was listed, so tokens cannot cross calls. */
export function encodePageToken(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: scope })).toString('base64url');
}

export function decodePageToken(token: string | undefined, scope: string): number {
  if (token === undefined) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; s?: unknown };
    if (typeof v.o === 'number' && Number.isSafeInteger(v.o) && v.o >= 0 && v.s === scope) return v.o;
  } catch {
    // fall through
  }
  throw new RegistryError('InvalidPageToken', 'Invalid pagination token', { field: 'nextToken' });
}

/** One page of `items` and the token for the next, if any. */
export function page<T>(items: T[], token: string | undefined, maxResults: number | undefined, scope: string): { items: T[]; nextToken?: string } {
  const start = decodePageToken(token, scope);
  const size = maxResults ?? 100;
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? encodePageToken(start + size, scope) : undefined;
  return next ? { items: slice, nextToken: next } : { items: slice };
}
