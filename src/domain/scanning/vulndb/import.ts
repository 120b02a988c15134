import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inflateRawSync } from 'node:zlib';
import type yauzl from 'yauzl';
import type { ImportCounts, ScanStore, VulnRecordRow } from '../../../store/meta/scan-store.js';
import { isScanError, ScanError } from '../errors.js';
import { convertAlpineSecdb, looksLikeAlpineSecdb } from './alpine-secdb.js';
import { convertDebianTracker, looksLikeDebianTracker } from './debian-tracker.js';
import { affectedKeys, looksLikeOsv, validateOsv, type OsvRecord } from './osv.js';
import { openZip } from './zip-reader.js';

/** A JSON file (or zip entry) larger than this is refused: no real record is, a zip bomb is. */
const MAX_JSON_BYTES = 512 * 1024 * 1024;
const MAX_ZIP_ENTRY_BYTES = 16 * 1024 * 1024;
/** Records stored per transaction: fewer, larger commits were most of what import speed gained. */
const BATCH = 5000;
const MAX_REPORTED_FAILURES = 100;

export interface ImportReport extends ImportCounts {
  files: number;
  failed: number;
  /** The first failures, each naming the file (and entry) and what was wrong. */
  failures: Array<{ where: string; message: string }>;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Loads vulnerability records into the store: OSV JSON files (one record or a list), directories
 * of them, zips laid out like OSV's `<ecosystem>/all.zip`, and Debian security-tracker and Alpine
 * secdb JSON, converted to OSV. A bad record or file is reported and skipped, never fatal.
 */
export class VulnDbImporter {
  private pending: VulnRecordRow[] = [];
  readonly report: ImportReport = { files: 0, added: 0, replaced: 0, unchanged: 0, failed: 0, failures: [] };

  constructor(
    private readonly store: ScanStore,
    private readonly now = () => new Date(),
  ) {}

  /** Imports a file or directory; its records are listed under `source` (default: its name). */
  async importPath(path: string, source = basename(path)): Promise<void> {
    const info = await stat(path);
    if (info.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await this.importPathInDir(join(path, entry), source);
      return;
    }
    await this.importFile(path, source);
  }

  private async importPathInDir(path: string, source: string): Promise<void> {
    const info = await stat(path);
    if (info.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await this.importPathInDir(join(path, entry), source);
    } else if (/\.(json|zip)$/i.test(path)) {
      await this.importFile(path, source);
    }
  }

  private async importFile(path: string, source: string): Promise<void> {
    this.report.files++;
    try {
      if (/\.zip$/i.test(path)) return await this.importZip(path, source);
      const info = await stat(path);
      if (info.size > MAX_JSON_BYTES) throw new Error(`larger than ${MAX_JSON_BYTES} bytes`);
      const text = await readFile(path, 'utf8');
      this.importJson(JSON.parse(text), source, path, info.mtime, text);
    } catch (e) {
      this.fail(path, errorText(e));
    }
    await this.flushIfFull();
  }

  /** Entries are read one at a time, each capped, so a zip bomb fails its entries, not the process. */
  private async importZip(path: string, source: string): Promise<void> {
    const zip = await openZip(path);
    try {
      for (let entry = await zip.next(); entry; entry = await zip.next()) {
        if (!entry.fileName.endsWith('.json')) continue;
        const where = `${path}!${entry.fileName}`;
        try {
          const text = inflateEntry(entry, await zip.storedBytes(entry, MAX_ZIP_ENTRY_BYTES));
          this.importJson(JSON.parse(text), source, where, entry.getLastModDate(), text);
        } catch (e) {
          this.fail(where, errorText(e));
        }
        await this.flushIfFull();
      }
    } finally {
      zip.close();
    }
  }

  /**
   * One parsed JSON document: an OSV record, a list of them, a tracker or a secdb file. Tracker and
   * secdb data carry no dates: their records are as new as the file they came in (`fileTime`), so
   * importing the same snapshot again neither replaces them nor makes the database look fresh.
   */
  importJson(value: unknown, source: string, where: string, fileTime: Date = this.now(), text?: string): void {
    const modified = (Number.isNaN(fileTime.getTime()) ? this.now() : fileTime).toISOString();
    if (Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) {
      for (const item of value) this.add(item, source, where);
    } else if (looksLikeAlpineSecdb(value)) {
      const v = value as Record<string, unknown>;
      const repo = typeof v.reponame === 'string' ? `/${v.reponame}` : '';
      for (const r of convertAlpineSecdb(v, modified)) this.add(r, `alpine-secdb:${String(v.distroversion)}${repo}`, where);
    } else if (looksLikeDebianTracker(value)) {
      for (const r of convertDebianTracker(value as Record<string, unknown>, modified)) this.add(r, 'debian-security-tracker', where);
    } else if (looksLikeOsv(value) || (typeof value === 'object' && value !== null && 'id' in value)) {
      this.add(value, source, where, text === undefined ? undefined : compactJson(text));
    } else {
      this.fail(where, 'not an OSV record, Debian security-tracker JSON or Alpine secdb JSON');
    }
  }

  /** `body`: the record's own text, when it is already compact (no need to serialize it again). */
  private add(value: unknown, source: string, where: string, body?: string): void {
    try {
      const record: OsvRecord = validateOsv(value);
      this.pending.push({ id: record.id, modified: Date.parse(record.modified), source, body: body ?? JSON.stringify(record), affected: affectedKeys(record) });
    } catch (e) {
      this.fail(where, isScanError(e) ? e.message : `invalid record: ${errorText(e)}`);
    }
  }

  private fail(where: string, message: string): void {
    this.report.failed++;
    if (this.report.failures.length < MAX_REPORTED_FAILURES) this.report.failures.push({ where, message });
  }

  private async flushIfFull(): Promise<void> {
    if (this.pending.length >= BATCH) await this.flush();
  }

  /** Writes what is pending; call once at the end. */
  async flush(): Promise<ImportReport> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH);
      const counts = await this.store.importRecords(batch);
      this.report.added += counts.added;
      this.report.replaced += counts.replaced;
      this.report.unchanged += counts.unchanged;
    }
    return this.report;
  }
}

/**
 * An entry's text, inflated in one call and capped: its header's sizes are checked against the
 * bytes, so an entry lying about its size fails.
 */
function inflateEntry(entry: yauzl.Entry, stored: Buffer): string {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new Error(`unsupported compression method ${entry.compressionMethod}`);
  if (entry.uncompressedSize > MAX_ZIP_ENTRY_BYTES) throw new Error(`entry larger than ${MAX_ZIP_ENTRY_BYTES} bytes`);
  let data: Buffer;
  try {
    data = entry.compressionMethod === 8 ? inflateRawSync(stored, { maxOutputLength: MAX_ZIP_ENTRY_BYTES }) : stored;
  } catch (e) {
    throw e instanceof RangeError ? new Error(`entry larger than ${MAX_ZIP_ENTRY_BYTES} bytes`) : e;
  }
  if (data.length !== entry.uncompressedSize) throw new Error(`entry is ${data.length} bytes, its header says ${entry.uncompressedSize}`);
  return data.toString('utf8');
}

/** The text of one JSON document when it is on one line (as compact as stored), else undefined. */
function compactJson(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed.includes('\n') ? undefined : trimmed;
}

/** Imports every path; the report counts records added, replaced, unchanged and failed. */
export async function importVulnDb(store: ScanStore, paths: string[]): Promise<ImportReport> {
  const importer = new VulnDbImporter(store);
  for (const path of paths) {
    try {
      await importer.importPath(path);
    } catch (e) {
      importer.report.failed++;
      importer.report.failures.push({ where: path, message: errorText(e) });
    }
  }
  return importer.flush();
}

/**
 * Fetches an OSV zip (or JSON) over HTTP(S) into a temporary file and imports it, for sites that
 * are online; the file goes afterwards. A non-2xx answer is an error naming the status.
 */
export async function updateVulnDb(store: ScanStore, url: string): Promise<ImportReport> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ScanError('InvalidParameter', `not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ScanError('InvalidParameter', `only http and https URLs are fetched: ${url}`);
  const response = await fetch(parsed);
  if (!response.ok || !response.body) throw new ScanError('InvalidParameter', `GET ${url}: HTTP ${response.status}`);
  const dir = await mkdtemp(join(tmpdir(), 'berth-vulndb-'));
  try {
    const name = basename(parsed.pathname) || 'download';
    const file = join(dir, /\.(zip|json)$/i.test(name) ? name : `${name}.zip`);
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(file));
    // The file is as new as the server says (converted tracker or secdb records take its time).
    const lastModified = Date.parse(response.headers.get('last-modified') ?? '');
    if (!Number.isNaN(lastModified)) await utimes(file, new Date(lastModified), new Date(lastModified));
    const importer = new VulnDbImporter(store);
    await importer.importPath(file, url);
    return await importer.flush();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
