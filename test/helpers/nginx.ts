// nginx as the load balancer in front of several berth nodes, for tests and benchmarks: run in the
// foreground from a directory of its own, with its pid file, error log and temporary files there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './berth.js';

export const NGINX = '/usr/sbin/nginx';

/** A reason to skip when nginx is not installed (for `describe`'s `skip`), else false. */
export const nginxMissing: string | false = !existsSync(NGINX) && 'nginx is not installed';

export interface Nginx {
  /** 127.0.0.1:<port>, where it listens. */
  host: string;
  /** Its error log, when that holds an entry at level error or worse; else undefined. */
  troubles(): Promise<string | undefined>;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Its own directory (created): configuration, pid file, error log, temporary files. */
  dir: string;
  /** The port to listen on, when it must be known before nginx starts; else a free one. */
  port?: number;
  /**
   * The configuration for listening on `listen` (host:port): the events and http blocks and any
   * main-context directive but those this helper writes (user, daemon, pid, error_log). Access
   * logging and temporary files are set up inside its `http {` block.
   */
  config: (listen: string) => string;
}

/** Starts nginx and waits until it answers on /healthz (what the upstreams answer does not matter). */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const { dir } = options;
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const errorLog = join(dir, 'error.log');
  await mkdir(dir, { recursive: true });
  const http = ['http {', '  access_log off;', `  client_body_temp_path ${join(dir, 'body')};`, `  proxy_temp_path ${join(dir, 'proxy')};`].join('\n');
  const config = options.config(host);
  if (!/^http \{/m.test(config)) throw new Error('the nginx configuration has no line starting "http {"');
  const file = join(dir, 'nginx.conf');
  await writeFile(file, ['user root;', 'daemon off;', `pid ${join(dir, 'nginx.pid')};`, `error_log ${errorLog} warn;`, config.replace(/^http \{/m, http)].join('\n'));
  const proc = spawn(NGINX, ['-p', dir, '-c', file, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    const res = await fetch(`http://${host}/healthz`).catch(() => undefined);
    if (res) {
      await res.arrayBuffer();
      return {
        host,
        stop,
        async troubles() {
          const log = await readFile(errorLog, 'utf8').catch(() => '');
          return /\[(error|crit|alert|emerg)\]/.test(log) ? log : undefined;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`nginx did not start: ${output}`);
}

/**
 * Round-robin over `upstreams` (host:port), streaming request and response bodies both ways with
 * no size limit and passing on the Host header the client sent (SigV4 signs it). With `keepalive`,
 * that many idle connections to the upstreams are kept open.
 */
export function roundRobin(upstreams: string[], opts: { keepalive?: number; workerConnections?: number } = {}): (listen: string) => string {
  const { keepalive, workerConnections = 256 } = opts;
  return (listen) =>
    [
      'worker_processes 1;',
      `events { worker_connections ${workerConnections}; }`,
      'http {',
      '  client_max_body_size 0;',
      `  upstream berth { ${upstreams.map((u) => `server ${u};`).join(' ')}${keepalive ? ` keepalive ${keepalive};` : ''} }`,
      '  server {',
      `    listen ${listen};`,
      '    location / {',
      '      proxy_pass http://berth;',
      '      proxy_http_version 1.1;',
      ...(keepalive ? ['      proxy_set_header Connection "";'] : []),
      '      proxy_set_header Host $http_host;',
      '      proxy_request_buffering off;',
      '      proxy_buffering off;',
      '    }',
      '  }',
      '}',
    ].join('\n');
}
