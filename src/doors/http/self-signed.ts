// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** PEM texts from createSelfSigned; file paths from writeSelfSigned. */
export interface SelfSignedFiles {
  /** The CA certificate clients trust (ca.crt). */
  caCert: string;
  /** The server certificate (server.crt). */
  serverCert: string;
  /** The server's private key, PKCS#8 (server.key, mode 0600). */
  serverKey: string;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // a positive integer
  return bytes.toString('hex');
}

/** A DNS name or an IP address, as a subject alternative name. */
function altName(host: string): x509.JsonGeneralName {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) ? { type: 'ip', value: bare } : { type: 'dns', value: host };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * A CA and a server certificate signed by it, with one subject alternative name per host
 * (DNS names and IP addresses), for labs and tests.
 */
export async function createSelfSigned(hosts: string[], days = 365): Promise<SelfSignedFiles> {
  if (hosts.length === 0) throw new Error('at least one --host is needed');
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + days * DAY_MS);
  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=berth lab CA ${serial().slice(0, 8)}`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0]!.replace(/[,=+<>#;"\\]/g, '_')}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map(altName)),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    caCert: ca.toString('pem') + '\n',
    serverCert: server.toString('pem') + '\n',
    serverKey: await privateKeyPem(serverKeys.privateKey),
  };
}

/**
 * Writes ca.crt, server.crt and server.key into `dir`; the key is readable by its owner only. The CA's
 * own key is never written: the CA vouches for this one server certificate and nothing else.
 */
export async function writeSelfSigned(dir: string, hosts: string[], days?: number): Promise<SelfSignedFiles> {
  const pems = await createSelfSigned(hosts, days);
  await mkdir(dir, { recursive: true });
  const paths = {
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
  await writeFile(paths.serverKey, pems.serverKey, { mode: 0o600 });
  await chmod(paths.serverKey, 0o600);
  await writeFile(paths.caCert, pems.caCert);
  await writeFile(paths.serverCert, pems.serverCert);
  return paths;
}
