// The EventBridgeStore contract, run against every database implementation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataStore } from '../../src/store/meta/metadata-store.js';
import type { StoreHandle } from './metadata-store-contract.js';

const A = '111122223333';
const B = '444455556666';

export function eventBridgeStoreContract(name: string, makeStore: () => Promise<StoreHandle<MetadataStore>>): void {
  describe(`EventBridgeStore contract: ${name}`, () => {
    let h: StoreHandle<MetadataStore>;
    beforeEach(async () => (h = await makeStore()));
    afterEach(async () => h.close());

    it('connections and destinations: once per account and name, listed by prefix, secrets kept for delivery', async () => {
      const eb = h.store.eventbridge;
      const conn = { accountId: A, name: 'hooks', arn: 'arn:c', description: null, authorizationType: 'API_KEY', auth: { ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 's' } }, createdAt: 1, updatedAt: 2 };
      assert.equal(await eb.insertConnection(conn), true);
      assert.equal(await eb.insertConnection({ ...conn, arn: 'arn:other' }), false);
      assert.equal(await eb.insertConnection({ ...conn, accountId: B }), true);
      assert.deepEqual(await eb.getConnection(A, 'hooks'), conn);
      await eb.insertConnection({ ...conn, name: 'other' });
      assert.deepEqual((await eb.listConnections(A, 'ho')).map((c) => c.name), ['hooks']);
      const dest = { accountId: A, name: 'd', arn: 'arn:d', description: 'x', connectionArn: 'arn:c', endpoint: 'http://h/p', httpMethod: 'POST', rateLimit: 300, createdAt: 3, updatedAt: 3 };
      assert.equal(await eb.insertDestination(dest), true);
      assert.equal(await eb.insertDestination(dest), false);
      assert.deepEqual(await eb.getDestination(A, 'd'), dest);
      assert.equal(await eb.destinationsUsing('arn:c'), 1);
      const movedDest = { ...dest, endpoint: 'http://h/q', httpMethod: 'PUT', rateLimit: 10, description: null, updatedAt: 9 };
      assert.equal(await eb.updateDestination(movedDest), true);
      assert.deepEqual(await eb.getDestination(A, 'd'), movedDest);
      assert.equal(await eb.updateDestination({ ...movedDest, name: 'none' }), false);
      const rotated = { ...conn, authorizationType: 'BASIC', auth: { BasicAuthParameters: { Username: 'u', Password: 'p' } }, description: 'd', updatedAt: 8 };
      assert.equal(await eb.updateConnection(rotated), true);
      assert.deepEqual(await eb.getConnection(A, 'hooks'), rotated);
      assert.deepEqual(await eb.getConnection(B, 'hooks'), { ...conn, accountId: B }, 'another account\'s is untouched');
      assert.equal(await eb.updateConnection({ ...rotated, name: 'none' }), false);
      assert.equal(await eb.deleteDestination(A, 'd'), true);
      assert.equal(await eb.deleteConnection(A, 'hooks'), true);
      assert.equal(await eb.getConnection(A, 'hooks'), undefined);
      assert.ok(await eb.getConnection(B, 'hooks'), 'another account keeps its own');
    });

    it('rules: put replaces all but the creation time; enabled rules of all accounts; deleting takes the targets', async () => {
      const eb = h.store.eventbridge;
      const rule = { accountId: A, name: 'r', arn: 'arn:r', eventPattern: '{"source":["aws.ecr"]}', state: 'ENABLED' as const, description: null, roleArn: null, createdAt: 10 };
      await eb.putRule(rule);
      await eb.putRule({ ...rule, eventPattern: '{"source":["x"]}', description: 'd', createdAt: 99 });
      assert.deepEqual(await eb.getRule(A, 'r'), { ...rule, eventPattern: '{"source":["x"]}', description: 'd' });
      await eb.putRule({ ...rule, accountId: B, name: 'off', state: 'DISABLED' });
      assert.deepEqual((await eb.enabledRules()).map((r) => [r.accountId, r.name]), [[A, 'r']]);
      assert.equal(await eb.setRuleState(B, 'off', 'ENABLED'), true);
      assert.equal(await eb.setRuleState(B, 'missing', 'ENABLED'), false);
      await eb.putTarget({ accountId: A, ruleName: 'r', targetId: 't1', target: { Id: 't1', Arn: 'arn:d' } });
      await eb.putTarget({ accountId: A, ruleName: 'r', targetId: 't1', target: { Id: 't1', Arn: 'arn:d2' } });
      await eb.putTarget({ accountId: A, ruleName: 'r', targetId: 't0', target: { Id: 't0', Arn: 'arn:d' } });
      assert.deepEqual((await eb.listTargets(A, 'r')).map((t) => [t.targetId, t.target.Arn]), [['t0', 'arn:d'], ['t1', 'arn:d2']]);
      assert.equal(await eb.targetsUsing(A, 'arn:d'), 1);
      assert.equal(await eb.deleteTarget(A, 'r', 't0'), true);
      assert.equal(await eb.deleteRule(A, 'r'), true);
      assert.deepEqual(await eb.listTargets(A, 'r'), []);
    });

    it('tags: set, replaced by key, removed, kept per resource and account, gone with their rule', async () => {
      const eb = h.store.eventbridge;
      const rule = { accountId: A, name: 'r', arn: 'arn:aws:events:r1:111122223333:rule/r', eventPattern: '{}', state: 'ENABLED' as const, description: null, roleArn: null, createdAt: 1 };
      await eb.putRule(rule);
      await eb.setTags(A, rule.arn, [{ key: 'team', value: 'a' }, { key: 'cost', value: '' }]);
      await eb.setTags(A, rule.arn, [{ key: 'team', value: 'b' }]);
      await eb.setTags(A, 'arn:bus', [{ key: 'env', value: 'lab' }]);
      await eb.setTags(B, rule.arn, [{ key: 'other', value: 'account' }]);
      assert.deepEqual(await eb.tags(A, rule.arn), [{ key: 'cost', value: '' }, { key: 'team', value: 'b' }]);
      await eb.removeTags(A, rule.arn, ['cost', 'absent']);
      assert.deepEqual(await eb.tags(A, rule.arn), [{ key: 'team', value: 'b' }]);
      await eb.putTarget({ accountId: A, ruleName: 'r', targetId: 't', target: { Id: 't', Arn: 'arn:dest' } });
      await eb.putRule({ ...rule, name: 'q', arn: 'arn:aws:events:r1:111122223333:rule/q' });
      await eb.putTarget({ accountId: A, ruleName: 'q', targetId: 't', target: { Id: 't', Arn: 'arn:dest' } });
      await eb.putTarget({ accountId: A, ruleName: 'q', targetId: 'u', target: { Id: 'u', Arn: 'arn:dest' } });
      assert.deepEqual(await eb.ruleNamesWithTarget(A, 'arn:dest'), ['q', 'r']);
      assert.deepEqual(await eb.ruleNamesWithTarget(B, 'arn:dest'), []);
      assert.equal(await eb.deleteRule(A, 'r'), true);
      assert.deepEqual(await eb.tags(A, rule.arn), []);
      assert.deepEqual(await eb.tags(A, 'arn:bus'), [{ key: 'env', value: 'lab' }]);
      assert.deepEqual(await eb.tags(B, rule.arn), [{ key: 'other', value: 'account' }], "another account's tags are its own");
    });
  });
}
