// Streaming gunzip through ISA-L (where libisal2 loads; scripts/test.sh installs it) and through
// node:zlib: the same bytes for multi-member streams however they are cut, the same refusals for
// corrupt and truncated ones, output in bounded chunks, and node's zlib when ISA-L is absent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { analyzeLayer } from '../../src/domain/scanning/layers/analyze.js';
import { isScanError } from '../../src/domain/scanning/errors.js';
import { gunzip, INFLATE_CHUNK, loadIsalGunzip, nodeGunzip, type Gunzip } from '../../src/runtime/gunzip.js';
import { startWorkerGunzip } from '../../src/runtime/gunzip-worker-host.js';
import { chunked, layerOf } from '../helpers/layers.js';

const isal = await loadIsalGunzip();
const inWorker = await startWorkerGunzip();

function engines(): Gunzip[] {
  assert.ok(isal, 'ISA-L (libisal2) should load here: scripts/test.sh installs it');
  assert.ok(inWorker, 'ISA-L should also run in a worker thread');
  return [isal, inWorker, nodeGunzip];
}

/** ISA-L called on libuv threads, and in a worker thread of its own. */
function isalEngines(): Gunzip[] {
  return engines().slice(0, 2);
}

async function* cut(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function inflateAll(engine: Gunzip, source: AsyncIterable<Buffer>): Promise<{ data: Buffer; chunks: number[] }> {
  const parts: Buffer[] = [];
  for await (const chunk of engine.inflate(source)) parts.push(chunk);
  return { data: Buffer.concat(parts), chunks: parts.map((p) => p.length) };
}

/** A member with a file name and an extra field in its header (flags FNAME | FEXTRA), as some tools write. */
function memberWithNamedHeader(data: Buffer): Buffer {
  const plain = gzipSync(data);
  const header = Buffer.from(plain.subarray(0, 10));
  header[3] = 0x04 | 0x08;
  const extra = Buffer.from([6, 0, 0x42, 0x62, 2, 0, 0x01, 0x02]);
  return Buffer.concat([header, extra, Buffer.from('layer.tar\0'), plain.subarray(10)]);
}

async function rejection(engine: Gunzip, data: Buffer): Promise<string> {
  try {
    await inflateAll(engine, cut(data, [97]));
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail(`${engine.engine} inflated a stream it should refuse`);
}

describe('gunzip', () => {
  test('ISA-L is the engine chosen here', async () => {
    engines();
    assert.equal((await gunzip()).engine, 'isa-l');
  });

  test('multi-member streams inflate to the same bytes with either engine, however the input is cut', async () => {
    const compressible = Buffer.from('Package: libc6\nStatus: install ok installed\n'.repeat(120_000)); // 5.3 MB, several output chunks
    const members = [gzipSync(Buffer.from('a small first member, as the bench writes in front of a layer\n')), gzipSync(compressible, { level: 1 }), gzipSync(Buffer.alloc(0)), memberWithNamedHeader(randomBytes(300_000)), gzipSync(randomBytes(70_000), { level: 0 })];
    const stream = Buffer.concat(members);
    const expected = gunzipSync(stream);
    for (const engine of engines()) {
      for (const sizes of [[stream.length], [7, 3, 65536], [256 * 1024], [1, 1, 2, 4096]]) {
        const { data, chunks } = await inflateAll(engine, cut(stream, sizes));
        assert.ok(data.equals(expected), `${engine.engine}, input cut in ${sizes.join('/')}`);
        assert.ok(Math.max(...chunks) <= INFLATE_CHUNK, `${engine.engine} handed on a chunk of ${Math.max(...chunks)} bytes`);
      }
    }
    // Byte by byte (a call per byte) through ISA-L, on members with headers of variable length.
    const headed = Buffer.concat([memberWithNamedHeader(Buffer.from('x'.repeat(5000))), memberWithNamedHeader(Buffer.from('y'))]);
    assert.equal((await inflateAll(isal!, cut(headed, [1]))).data.toString(), `${'x'.repeat(5000)}y`);
  });

  test('a layer far larger than memory allows streams through in chunks of at most INFLATE_CHUNK', async () => {
    const block = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61), { level: 1 });
    async function* repeated() {
      for (let i = 0; i < 48; i++) yield block; // 384 MiB inflated, never held
    }
    for (const engine of engines()) {
      let total = 0;
      let largest = 0;
      for await (const chunk of engine.inflate(repeated())) {
        total += chunk.length;
        largest = Math.max(largest, chunk.length);
      }
      assert.equal(total, 48 * 8 * 1024 * 1024, engine.engine);
      assert.equal(largest, INFLATE_CHUNK, engine.engine);
    }
  });

  test('trailing zeros after the last member are padding; anything else after it must be another member', async () => {
    const member = gzipSync(Buffer.from('hello\n'));
    for (const engine of engines()) {
      assert.equal((await inflateAll(engine, cut(Buffer.concat([member, Buffer.alloc(1000)]), [5]))).data.toString(), 'hello\n', engine.engine);
      assert.equal(await rejection(engine, Buffer.concat([member, Buffer.from('garbage')])), 'incorrect header check', engine.engine);
    }
  });

  test('corrupt and truncated streams are refused by both engines, mostly in the same words', async () => {
    const member = gzipSync(Buffer.from('Package: bash\nVersion: 5.2.15-2+b8\n'.repeat(500)));
    const flip = (at: number) => {
      const copy = Buffer.from(member);
      copy[at < 0 ? copy.length + at : at]! ^= 0x01;
      return copy;
    };
    const same: Array<[string, Buffer, string]> = [
      ['truncated inside the deflate data', member.subarray(0, member.length - 20), 'unexpected end of file'],
      ['truncated inside the trailer', member.subarray(0, member.length - 3), 'unexpected end of file'],
      ['truncated inside the header', member.subarray(0, 6), 'unexpected end of file'],
      ['a second member cut short', Buffer.concat([member, member.subarray(0, 4)]), 'unexpected end of file'],
      ['a changed CRC', flip(-8), 'incorrect data check'],
      ['an unknown compression method', Buffer.concat([member.subarray(0, 2), Buffer.from([7]), member.subarray(3)]), 'unknown compression method'],
    ];
    for (const engine of engines()) {
      for (const [what, data, message] of same) assert.equal(await rejection(engine, data), message, `${engine.engine}: ${what}`);
    }
    // zlib tells a wrong length and a wrong block apart; ISA-L reports a data check and an invalid block.
    assert.equal(await rejection(nodeGunzip, flip(-1)), 'incorrect length check');
    for (const engine of isalEngines()) assert.equal(await rejection(engine, flip(-1)), 'incorrect data check');
    const garbled = Buffer.concat([member.subarray(0, 20), Buffer.alloc(200, 7)]);
    assert.match(await rejection(nodeGunzip, garbled), /invalid/);
    for (const engine of isalEngines()) assert.match(await rejection(engine, garbled), /invalid/);
  });

  test('a corrupt or truncated gzip layer fails its analysis as an unreadable layer', async () => {
    const layer = await layerOf([{ path: 'etc/alpine-release', data: '3.19.1\n' }]);
    for (const bad of [layer.subarray(0, layer.length - 5), Buffer.concat([layer.subarray(0, 20), Buffer.alloc(200, 7)])]) {
      await assert.rejects(analyzeLayer(chunked(bad)), (e) => isScanError(e, 'InvalidLayer') && /^unreadable layer \(gzip\): /.test(e.message));
    }
  });

  test('a consumer that stops early leaves no call running on freed memory', async () => {
    const big = gzipSync(randomBytes(6 * INFLATE_CHUNK), { level: 0 });
    for (const engine of isalEngines()) {
      for (let round = 0; round < 20; round++) {
        for await (const chunk of engine.inflate(cut(big, [64 * 1024]))) {
          assert.equal(chunk.length, INFLATE_CHUNK);
          break;
        }
      }
      assert.equal((await inflateAll(engine, cut(big, [big.length]))).data.length, 6 * INFLATE_CHUNK);
    }
  });

  test('inflating runs ahead of a slow consumer, which still gets every byte in order', async () => {
    const data = randomBytes(9 * INFLATE_CHUNK + 12345);
    const gz = Buffer.concat([gzipSync(data.subarray(0, 4 * INFLATE_CHUNK), { level: 1 }), gzipSync(data.subarray(4 * INFLATE_CHUNK), { level: 1 })]);
    for (const engine of isalEngines()) {
    let consumed = 0;
    let sourceRead = 0;
    let readAhead = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const part of cut(gz, [256 * 1024])) {
        sourceRead += part.length;
        yield part;
      }
    }
    const parts: Buffer[] = [];
    for await (const chunk of engine.inflate(counted())) {
      parts.push(chunk);
      consumed++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (consumed === 1) readAhead = sourceRead;
    }
    assert.ok(Buffer.concat(parts).equals(data));
    assert.ok(readAhead > 3.5 * INFLATE_CHUNK, `the inflater should have read ahead while the consumer waited (read ${readAhead} bytes)`);
    assert.ok(readAhead < 7 * INFLATE_CHUNK, 'but only a few chunks ahead');
    }
  });

  test('a source failing midway fails the consumer, also while the inflater is ahead of it', async () => {
    const gz = gzipSync(randomBytes(4 * INFLATE_CHUNK), { level: 0 });
    async function* failing(): AsyncGenerator<Buffer> {
      yield gz.subarray(0, 3 * INFLATE_CHUNK);
      throw new Error('the disk went away');
    }
    for (const engine of isalEngines()) await assert.rejects(inflateAll(engine, failing()), /the disk went away/);
  });

  test('without ISA-L (library absent, or not ISA-L) there is no ISA-L engine; node:zlib is the fallback', async () => {
    assert.equal(await loadIsalGunzip('libisal.so.0-absent'), undefined);
    assert.equal(await loadIsalGunzip('libz.so.1'), undefined);
    assert.equal(nodeGunzip.engine, 'node');
  });
});
