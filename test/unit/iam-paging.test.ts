import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IamError } from '../../src/doors/iam/iam-error.js';
import { paginate } from '../../src/doors/iam/paging.js';

const users = Array.from({ length: 5 }, (_, i) => ({ UserName: `u${i}` }));
const params = (q: Record<string, string>) => new URLSearchParams(q);

test('MaxItems cuts a list into pages joined by Marker; the last page is not truncated', () => {
  const seen: string[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = paginate({ Users: users, IsTruncated: false }, params({ MaxItems: '2', ...(marker ? { Marker: marker } : {}) }))!;
    pages++;
    seen.push(...(page.Users as Array<{ UserName: string }>).map((u) => u.UserName));
    marker = page.IsTruncated ? (page.Marker as string) : undefined;
    assert.equal(page.IsTruncated, marker !== undefined);
    assert.deepEqual(Object.keys(page).slice(-2), page.IsTruncated ? ['IsTruncated', 'Marker'] : ['Users', 'IsTruncated']);
  } while (marker);
  assert.equal(pages, 3);
  assert.deepEqual(seen, users.map((u) => u.UserName));
});

test('without MaxItems a page holds 100; other members pass through; non-list results are untouched', () => {
  const many = Array.from({ length: 150 }, (_, i) => ({ UserName: `u${i}` }));
  const page = paginate({ Group: { GroupName: 'g' }, Users: many, IsTruncated: false }, params({}))!;
  assert.equal((page.Users as unknown[]).length, 100);
  assert.equal(page.IsTruncated, true);
  assert.deepEqual(page.Group, { GroupName: 'g' });
  assert.deepEqual(paginate({ User: { UserName: 'x' } }, params({ MaxItems: '1' })), { User: { UserName: 'x' } });
  assert.equal(paginate(undefined, params({})), undefined);
});

test('bad MaxItems and Marker values are ValidationErrors', () => {
  for (const q of <Record<string, string>[]>[{ MaxItems: '0' }, { MaxItems: '1001' }, { MaxItems: 'x' }, { Marker: 'garbage' }, { Marker: Buffer.from('berth-iam-offset:99').toString('base64url') }]) {
    assert.throws(() => paginate({ Users: users, IsTruncated: false }, params(q)), (e: unknown) => e instanceof IamError && e.code === 'ValidationError', JSON.stringify(q));
  }
});
