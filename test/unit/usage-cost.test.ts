import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PRICES, estimateCosts, gbMonths, hoursIn, monthBefore, monthOf, parseMonth, type MeteredRepository } from '../../src/domain/usage/pricing.js';
import { storageHours } from '../../src/domain/usage/storage-sampler.js';

const GiB = 2 ** 30;
const HOUR = 3_600_000;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('months: YYYY-MM only, UTC bounds, their hours, the months before', () => {
  const feb = parseMonth('2028-02')!;
  assert.equal(feb.start, Date.UTC(2028, 1, 1));
  assert.equal(feb.end, Date.UTC(2028, 2, 1));
  assert.equal(hoursIn(feb), 29 * 24, 'a leap February');
  assert.equal(hoursIn(parseMonth('2026-02')!), 28 * 24);
  assert.equal(hoursIn(parseMonth('2026-07')!), 31 * 24);
  for (const bad of ['2026-13', '2026-00', '2026-1', '26-01', '2026-01-01', '', 'January', '2026-01 ']) assert.equal(parseMonth(bad), undefined, bad);
  assert.equal(monthBefore(parseMonth('2026-01')!).id, '2025-12');
  assert.equal(monthBefore(parseMonth('2026-03')!, 5).id, '2025-10');
  assert.equal(monthOf(Date.UTC(2026, 11, 31, 23, 59, 59)).id, '2026-12');
});

test('GB-months: byte-hours / (2^30 × hours in the month)', () => {
  const april = parseMonth('2026-04')!;
  // 1 GiB held for all of April is 1 GB-month; 5 GiB for 6 days is 1 GB-month too.
  close(gbMonths(GiB * 30 * 24, april), 1);
  close(gbMonths(5 * GiB * 6 * 24, april), 1);
  // 1 GB (10^9 bytes) for a 31-day month: AWS's GB is 2^30 bytes.
  close(gbMonths(1e9 * 31 * 24, parseMonth('2026-05')!), 1e9 / GiB);
});

test('storage is cut at hour boundaries, each piece holding the sample\'s bytes', () => {
  const mark = { registryId: 'a', region: 'r', repositoryName: 'x', sampledAt: Date.UTC(2026, 0, 1, 10, 40), bytes: 600, archiveBytes: 60 };
  const hours = storageHours(mark, Date.UTC(2026, 0, 1, 13, 10));
  assert.deepEqual(hours.map((h) => [new Date(h.hour).toISOString().slice(11, 16), h.byteHours, h.archiveByteHours, h.sampledAt - h.hour]), [
    ['10:00', 200, 20, HOUR],
    ['11:00', 600, 60, HOUR],
    ['12:00', 600, 60, HOUR],
    ['13:00', 100, 10, 10 * 60_000],
  ]);
  assert.deepEqual(storageHours(mark, mark.sampledAt), []);
});

function repo(more: Partial<MeteredRepository>): MeteredRepository {
  return { registryId: '111122223333', accountId: '111122223333', public: false, storageGbMonth: 0, archiveStorageGbMonth: 0, transferOutBytes: 0, ...more };
}

test('cost: storage at the GB-month price less the account\'s 0.5 GB-month free tier, shared in proportion; transfer out per GB', () => {
  const [a, b] = estimateCosts([repo({ storageGbMonth: 3, transferOutBytes: 10 * GiB }), repo({ storageGbMonth: 1.5 })], DEFAULT_PRICES);
  // 4.5 GB-months, 4 billable: 3/4.5 and 1.5/4.5 of $0.40.
  close(a!.storageUsd, 0.4 * (3 / 4.5));
  close(b!.storageUsd, 0.4 * (1.5 / 4.5));
  close(a!.transferOutUsd, 0.9);
  close(a!.totalUsd, 0.4 * (3 / 4.5) + 0.9);
  close(a!.storageUsd + b!.storageUsd, (4.5 - 0.5) * 0.1);
});

test('cost: within the free tier storage costs nothing; free tiers are per account and per kind', () => {
  const costs = estimateCosts([
    repo({ storageGbMonth: 0.4 }),
    repo({ registryId: '444455556666', accountId: '444455556666', storageGbMonth: 0.6 }),
    repo({ registryId: 'ecr-public:111122223333', public: true, storageGbMonth: 40, transferOutBytes: 100 * GiB }),
    repo({ registryId: 'ecr-public:444455556666', accountId: '444455556666', public: true, storageGbMonth: 60 }),
  ], DEFAULT_PRICES);
  assert.deepEqual(costs.map((c) => Number(c.totalUsd.toFixed(10))), [0, 0.01, 0, 1]);
});

test('cost: configured prices apply', () => {
  const [c] = estimateCosts([repo({ storageGbMonth: 10, archiveStorageGbMonth: 5, transferOutBytes: 2 * GiB })], {
    storageGbMonthUsd: 0.2,
    archiveStorageGbMonthUsd: 0.03,
    transferOutGbUsd: 0,
    freeStorageGbMonth: 0,
    publicFreeStorageGbMonth: 0,
  });
  close(c!.storageUsd, 2);
  close(c!.archiveStorageUsd, 0.15);
  close(c!.totalUsd, 2.15);
});

test('cost: archive storage at the archive price, outside the free tier, which stays standard storage\'s', () => {
  const prices = { ...DEFAULT_PRICES, archiveStorageGbMonthUsd: 0.07 };
  const [a, b] = estimateCosts([repo({ storageGbMonth: 0.25, archiveStorageGbMonth: 2 }), repo({ storageGbMonth: 0.25 })], prices);
  // 0.5 GB-month standard: all free; the 2 archived GB-months are charged at $0.07.
  close(a!.storageUsd, 0);
  close(a!.archiveStorageUsd, 0.14);
  close(a!.totalUsd, 0.14);
  close(b!.totalUsd, 0);
  assert.equal(DEFAULT_PRICES.archiveStorageGbMonthUsd, 0.1, 'ECR\'s price for the first 150 TB a month');
});
