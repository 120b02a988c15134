import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** What every request's connection says for policy conditions: where it came from, and whether over TLS. */
// A type, not an interface: it is passed on as a plain record of condition keys.
export type ConnectionKeys = {
  'aws:SourceIp': string | undefined;
  'aws:SecureTransport': 'true' | 'false';
};

export function connectionConditionKeys(req: IncomingMessage): ConnectionKeys {
  // Over TLS the socket (HTTP/1.1) or the HTTP/2 session's socket is a TLSSocket: `encrypted` is set.
  const encrypted = (req.socket as Partial<TLSSocket> | undefined)?.encrypted === true;
  return { 'aws:SourceIp': req.socket?.remoteAddress, 'aws:SecureTransport': encrypted ? 'true' : 'false' };
}
