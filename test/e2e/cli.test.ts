// The command line a user meets first: the version, and a data dir berth cannot use.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, REPO_ROOT } from '../helpers/berth.js';
import { run } from '../helpers/tools.js';

const BERTH = join(REPO_ROOT, 'bin', 'berth.js');

describe('berth command line', () => {
  let scratch: string;
  before(async () => {
    await ensureBuilt();
    scratch = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('prints its version', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await run('node', [BERTH, '--version'], { timeoutMs: 20_000 });
    assert.equal(result.stdout.trim(), version);
  });

  for (const [what, dataDir] of [
    ['a data dir under /proc', () => '/proc/berth-cannot-live-here'],
    ['a data dir below a file', () => join(scratch, 'a-file', 'data')],
  ] as const) {
    it(`refuses ${what} at once with a clear message`, async () => {
      await writeFile(join(scratch, 'a-file'), 'not a directory');
      const dir = dataDir();
      const result = await run('node', [BERTH, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dir], { timeoutMs: 20_000, check: false });
      assert.equal(result.timedOut, false, 'berth must not hang on a data dir it cannot use');
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`cannot use data dir ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    });
  }
});
