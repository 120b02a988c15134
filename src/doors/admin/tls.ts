import { InvalidArgumentError, type Command } from 'commander';

function days(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of days, at least 1');
  return n;
}

/** `berth admin tls …`: certificates for serving HTTPS. */
export function registerTlsAdmin(admin: Command): void {
  const tls = admin.command('tls').description('certificates for serving HTTPS');
  tls
    .command('self-signed')
    .description('write a CA (ca.crt) and a server certificate and key it signed (server.crt, server.key), for labs and tests')
    .requiredOption('--host <name...>', 'a DNS name or IP address the server is reached at (repeatable; each becomes a subject alternative name)')
    .requiredOption('--out <dir>', 'directory to write the files to')
    .option('--days <n>', 'validity in days', days, 365)
    .action(async (opts: { host: string[]; out: string; days: number }) => {
      // Loaded on use: the certificate library is needed by this command only.
      const { writeSelfSigned } = await import('../http/self-signed.js');
      const files = await writeSelfSigned(opts.out, opts.host, opts.days);
      process.stdout.write(
        `wrote ${files.caCert} (trust this), ${files.serverCert} and ${files.serverKey}\n` +
          `  berth serve --tls-cert ${files.serverCert} --tls-key ${files.serverKey}\n`,
      );
    });
}
