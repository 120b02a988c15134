import yauzl from 'yauzl';
import type { Package } from '../model.js';

const ARCHIVE = /\.(jar|war|ear|par)$/i;
/** Nested archives deeper than this are not opened (a jar bomb). */
const MAX_DEPTH = 4;
/** The largest nested archive or pom.properties read into memory. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

export function isJavaArchive(path: string): boolean {
  return ARCHIVE.test(path);
}

function openZip(data: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromBuffer(data, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip!))));
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ENTRY_BYTES) stream.destroy(new Error('zip entry too large'));
        else chunks.push(c);
      });
      stream.once('error', reject);
      stream.once('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * Maven artifacts of a Java archive: every `META-INF/maven/<g>/<a>/pom.properties`, recursing
 * into nested archives (a Spring Boot jar's `BOOT-INF/lib/*.jar`, a war's `WEB-INF/lib`).
 * Named `groupId:artifactId` as OSV's Maven ecosystem does; the path says which archive held it.
 */
export async function javaPackages(data: Buffer, path: string, depth = 0): Promise<Package[]> {
  const out: Package[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(data);
  } catch {
    return out;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const name = entry.fileName;
          if (/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(name)) {
            const props = parseProperties((await readEntry(zip, entry)).toString('utf8'));
            const g = props.get('groupId');
            const a = props.get('artifactId');
            const v = props.get('version');
            if (g && a && v) out.push({ type: 'maven', name: `${g}:${a}`, version: v, path });
          } else if (ARCHIVE.test(name) && depth < MAX_DEPTH && entry.uncompressedSize <= MAX_ENTRY_BYTES) {
            out.push(...(await javaPackages(await readEntry(zip, entry), `${path}/${name}`, depth + 1)));
          }
          zip.readEntry();
        })().catch(reject);
      });
      zip.once('end', resolve);
      zip.once('error', reject);
      zip.readEntry();
    });
  } catch {
    // A damaged archive yields what was read before the damage.
  } finally {
    zip.close();
  }
  return out;
}
