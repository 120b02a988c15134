import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadConfig } from './config.js';
import { startBerth } from './server.js';
import { registerAdmin } from './doors/admin/index.js';
import { tuneHeapForServer } from './runtime/heap.js';

const program = new Command();
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
program
  .name('berth')
  .description('Amazon ECR, self-hosted: an OCI registry with an ECR-compatible API')
  .version(version, '-V, --version', 'print the version of berth');

program
  .command('serve')
  .description('start the registry')
  .option('--listen <host:port>', 'address to listen on (env BERTH_LISTEN, default 127.0.0.1:5000)')
  .option('--data-dir <dir>', 'where metadata and blobs live (env BERTH_DATA_DIR, default ./berth-data)')
  .option('--database-url <url>', 'keep metadata in this PostgreSQL database instead of SQLite (env BERTH_DATABASE_URL)')
  .option('--tls-cert <file>', 'serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate chain, re-read when it changes (env BERTH_TLS_CERT)')
  .option('--tls-key <file>', 'the PEM private key of --tls-cert (env BERTH_TLS_KEY)')
  .option('--blob-store <url>', 'keep blobs in this S3 bucket (s3://BUCKET/PREFIX) instead of the data dir (env BERTH_BLOB_STORE)')
  .action(async (opts: { listen?: string; dataDir?: string; databaseUrl?: string; tlsCert?: string; tlsKey?: string; blobStore?: string }) => {
    const config = loadConfig(opts);
    tuneHeapForServer();
    const berth = await startBerth(config);
    berth.log.info({ url: berth.url, dataDir: config.dataDir }, 'berth listening');
    process.stdout.write(`berth listening on ${berth.url} (data in ${config.dataDir})\n`);
    const stop = async () => {
      await berth.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

registerAdmin(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
