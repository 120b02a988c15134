import type { Server, Socket } from 'node:net';
import type { ConnectionLimits } from '../../config.js';

/** Node's own HTTP server options for the limits berth enforces while parsing. */
export function serverTimeouts(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    keepAliveTimeout: limits.idleTimeoutSeconds * 1000,
    // A whole request may take as long as it keeps moving (a 5 GiB push on a slow link); the
    // inactivity timeout below is what cuts off one that stops.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutSeconds * 250),
  };
}

/** An HTTP or HTTPS (HTTP/1.1 and HTTP/2) server: both emit 'timeout' for a connection idle for setTimeout's time. */
interface GuardedServer extends Server {
  setTimeout(msecs: number): unknown;
}

/**
 * Closes connections that make no progress for the inactivity timeout (a client that connects
 * and says nothing, or stops sending a body), and refuses connections beyond the per-client cap,
 * so one address cannot hold every connection.
 */
export function guardConnections(server: GuardedServer, limits: ConnectionLimits): void {
  const perClient = new Map<string, number>();
  // The idle connection is a socket on HTTP/1.1 and a whole session on HTTP/2; both are destroyed.
  server.setTimeout(limits.inactivityTimeoutSeconds * 1000);
  server.on('timeout', (connection: { destroy(): void }) => connection.destroy());
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    const open = (perClient.get(client) ?? 0) + 1;
    if (open > limits.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(client, open);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
    });
  });
}
