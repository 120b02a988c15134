// The TLS listener's parts: lab certificates, the pair check, settings, and reloading in place.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSelfSigned, writeSelfSigned } from '../../src/doors/http/self-signed.js';
import { readTlsPair, serveTls, type TlsListener } from '../../src/doors/http/tls.js';

const LIMITS = { headersTimeoutSeconds: 5, idleTimeoutSeconds: 5, inactivityTimeoutSeconds: 5, maxConnectionsPerClient: 64 };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tls-unit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function servedFingerprint(port: number, ca: string): Promise<{ fingerprint: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, rejectUnauthorized: false }, () => {
      resolve({ fingerprint: socket.getPeerX509Certificate()!.fingerprint256, authorized: socket.authorized });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('lab certificates', () => {
  it('a server certificate with a SAN per host (DNS names and IP addresses), signed by the CA written beside it', async () => {
    const pems = await createSelfSigned(['registry.lab', 'localhost', '127.0.0.1', '::1']);
    const ca = new X509Certificate(pems.caCert);
    const server = new X509Certificate(pems.serverCert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.ok(server.verify(ca.publicKey), 'signed by the CA');
    assert.ok(server.checkIssued(ca));
    assert.equal(server.subjectAltName, 'DNS:registry.lab, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(server.checkHost('registry.lab'), 'registry.lab');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkHost('other.lab'), undefined);
    await assert.rejects(createSelfSigned([]), /--host/);
  });
});

describe('certificate and key files', () => {
  it('a certificate with the key of another one, or a file that is not PEM, is refused with the file named', async () => {
    const a = await writeSelfSigned(join(dir, 'a'), ['localhost']);
    const b = await writeSelfSigned(join(dir, 'b'), ['localhost']);
    await readTlsPair({ certFile: a.serverCert, keyFile: a.serverKey });
    await assert.rejects(readTlsPair({ certFile: a.serverCert, keyFile: b.serverKey }), new RegExp(`${b.serverKey} is not the key`));
    await assert.rejects(readTlsPair({ certFile: a.serverKey, keyFile: a.serverKey }), /holds no PEM certificate/);
    await assert.rejects(readTlsPair({ certFile: a.serverCert, keyFile: a.serverCert }), /holds no PEM private key/);
  });

  it('settings: both files or neither, from flags or the environment', () => {
    assert.equal(loadConfig({}, {}).tls, undefined);
    assert.deepEqual(loadConfig({}, { BERTH_TLS_CERT: '/c.pem', BERTH_TLS_KEY: '/k.pem' }).tls, { certFile: '/c.pem', keyFile: '/k.pem' });
    assert.deepEqual(loadConfig({ tlsCert: '/f.pem', tlsKey: '/g.pem' }, { BERTH_TLS_CERT: '/c.pem', BERTH_TLS_KEY: '/k.pem' }).tls, { certFile: '/f.pem', keyFile: '/g.pem' });
    assert.throws(() => loadConfig({}, { BERTH_TLS_CERT: '/c.pem' }), /BERTH_TLS_KEY/);
    assert.throws(() => loadConfig({ tlsKey: '/k.pem' }, {}), /--tls-cert/);
  });
});

describe('reloading', () => {
  let listener: TlsListener;
  let port: number;
  let files: { certFile: string; keyFile: string };
  let caFile: string;

  before(async () => {
    const first = await writeSelfSigned(join(dir, 'live'), ['127.0.0.1']);
    files = { certFile: first.serverCert, keyFile: first.serverKey };
    caFile = first.caCert;
    listener = await serveTls(files, LIMITS, (_req, res) => res.end('ok'), pino({ level: 'silent' }), 50);
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
    port = (listener.server.address() as { port: number }).port;
  });
  after(async () => {
    await listener?.close();
  });

  it('keeps the old pair while only one file is replaced, or a file is missing, and serves the new one once both match', async () => {
    const oldCa = await readFile(caFile, 'utf8');
    const original = new X509Certificate(await readFile(files.certFile)).fingerprint256;
    const next = await createSelfSigned(['127.0.0.1']);
    const wait = () => new Promise((r) => setTimeout(r, 300));

    await writeFile(files.certFile, next.serverCert);
    await wait();
    assert.deepEqual(await servedFingerprint(port, oldCa), { fingerprint: original, authorized: true });

    await rm(files.keyFile);
    await wait();
    assert.equal((await servedFingerprint(port, oldCa)).fingerprint, original);

    await writeFile(files.keyFile, next.serverKey);
    const wanted = new X509Certificate(next.serverCert).fingerprint256;
    for (let i = 0; i < 40 && (await servedFingerprint(port, next.caCert)).fingerprint !== wanted; i++) await wait();
    assert.deepEqual(await servedFingerprint(port, next.caCert), { fingerprint: wanted, authorized: true });
  });
});
