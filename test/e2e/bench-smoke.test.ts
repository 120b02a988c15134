// The benchmark harness itself, at tiny sizes (BENCH_SMOKE=1): berth and CNCF Distribution start,
// every workload runs against both with every response checked, and one complete table comes out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/berth.js';
import { run } from '../helpers/tools.js';

test('npm run bench at smoke sizes prints a full berth vs Distribution table', async () => {
  const result = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
    cwd: REPO_ROOT,
    env: { BENCH_SMOKE: '1' },
    timeoutMs: 180_000,
  });
  const table = result.stdout;
  assert.match(table, /^Servers: berth = berth \S+; Distribution = Distribution \S+/m);
  for (const row of [
    /^\| push 16 MiB blob, monolithic +\| MB\/s/m,
    /^\| push 16 MiB blob, chunked 4 MiB +\| MB\/s/m,
    /^\| pull 16 MiB blob +\| MB\/s/m,
    /^\| manifest GET by tag, 16 conn \(wrk\) +\| req\/s/m,
    /^\| manifest HEAD by tag, 16 conn \(socket\) +\| req\/s/m,
    /^\| mixed 75\/25 pull\/push 4 MiB, 4 clients +\| req\/s/m,
    /^\| pull 16 MiB blob, TLS HTTP\/1\.1 +\| MB\/s/m,
    /^\| pull 16 MiB blob, TLS HTTP\/2 +\| MB\/s/m,
    /^\| peak RSS \(whole run\) +\| MiB/m,
  ]) {
    assert.match(table, row);
  }
  // Every measured cell holds a number for both servers; only an RSS rise may be zero.
  for (const line of table.split('\n').filter((l) => /^\| (push|pull|manifest|mixed|peak)/.test(l))) {
    const cells = line.split('|').map((c) => c.trim());
    const [a, b] = [Number(cells[3]), Number(cells[4])];
    const floor = /RSS rise/.test(line) ? 0 : Number.MIN_VALUE;
    assert.ok(a >= floor && b >= floor, line);
  }
  // Scanning rows: berth only (Distribution has no scanner), a number for berth and n/a for it.
  for (const row of [
    /^\| vulndb import, OSV zip of 2,000 records +\| records\/s/m,
    /^\| scan on push, 4 MB image, first scan +\| s /m,
    /^\| scan on push, 4 MB image, first scan, compressed layer read +\| MB\/s/m,
    /^\| scan on push, 4 MB image, rescan \(layers cached\) +\| s /m,
    /^\| push 16 MiB blob, monolithic, right after a 4 MB image \(berth scans it\) +\| MB\/s/m,
  ]) {
    assert.match(table, row);
  }
  for (const line of table.split('\n').filter((l) => /^\| (vulndb|scan)/.test(l))) {
    const cells = line.split('|').map((c) => c.trim());
    const floor = /RSS rise/.test(line) ? 0 : Number.MIN_VALUE;
    assert.ok(Number(cells[3]) >= floor && cells[4] === 'n/a', line);
  }
  assert.doesNotMatch(result.stderr, /FAILED/);
});
