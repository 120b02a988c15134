import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TOKEN_LIFETIME_MS, TokenIssuer } from '../../src/iam/auth/tokens.js';

const alice = { arn: 'arn:aws:iam::123456789012:user/alice', account: '123456789012', userName: 'alice', accessKeyId: 'AKIAALICE', anonymous: false };

test('an authorization token is base64("AWS:" + password), valid for 12 hours, and verifies to its principal', () => {
  const issuer = new TokenIssuer(randomBytes(32));
  const now = Date.now();
  const { authorizationToken, expiresAt } = issuer.issueAuthorizationToken(alice, now);
  assert.equal(expiresAt.getTime(), now + TOKEN_LIFETIME_MS);
  const decoded = Buffer.from(authorizationToken, 'base64').toString('utf8');
  const parts = decoded.split(':');
  assert.equal(parts.length, 2);
  assert.equal(parts[0], 'AWS');
  assert.deepEqual(issuer.verifyPassword(parts[1]!, now + 1000), alice);
});

test('an expired, tampered or foreign password does not verify', () => {
  const issuer = new TokenIssuer(randomBytes(32));
  const now = Date.now();
  const { password } = issuer.issuePassword(alice, now);
  assert.equal(issuer.verifyPassword(password, now + TOKEN_LIFETIME_MS + 1), undefined);
  const [payload, mac] = password.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ p: 'arn:aws:iam::123456789012:user/admin', a: '123456789012', e: now + 1e6 })).toString('base64url');
  assert.equal(issuer.verifyPassword(`${forged}.${mac}`, now), undefined);
  assert.equal(issuer.verifyPassword(`${payload}.${mac.slice(0, -2)}xx`, now), undefined);
  assert.equal(new TokenIssuer(randomBytes(32)).verifyPassword(password, now), undefined);
  assert.equal(issuer.verifyPassword('garbage', now), undefined);
  assert.equal(issuer.verifyPassword('', now), undefined);
});
