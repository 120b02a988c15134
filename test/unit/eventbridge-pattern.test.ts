import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, InvalidPatternError } from '../../src/domain/eventbridge/pattern.js';
import { ecrEnvelopes } from '../../src/domain/eventbridge/ecr-events.js';

const event = {
  source: 'aws.ecr',
  'detail-type': 'ECR Image Action',
  resources: ['arn:aws:ecr:us-east-1:123456789012:repository/a', 'arn:aws:ecr:us-east-1:123456789012:repository/b'],
  detail: { 'action-type': 'PUSH', 'image-tag': 'Release-1', size: 5, nothing: null, nested: { deep: 'yes' }, tags: ['x', 'y'] },
};
const matches = (pattern: unknown) => compilePattern(JSON.stringify(pattern)).matches(event);

describe('EventBridge event patterns', () => {
  it('matches exact values, any of a list, and any element of an array in the event', () => {
    assert.equal(matches({ source: ['aws.ecr', 'aws.s3'] }), true);
    assert.equal(matches({ resources: ['arn:aws:ecr:us-east-1:123456789012:repository/b'] }), true);
    assert.equal(matches({ detail: { tags: ['y'] } }), true);
    assert.equal(matches({ detail: { tags: ['z'] } }), false);
    assert.equal(matches({ detail: { nothing: [null] } }), true);
    assert.equal(matches({ detail: { nested: { deep: ['yes'] } } }), true);
    assert.equal(matches({ detail: { size: [5] } }), true);
    assert.equal(matches({ detail: { size: ['5'] } }), false, 'a number is not a string');
  });

  it('every named field must match', () => {
    assert.equal(matches({ source: ['aws.ecr'], detail: { 'action-type': ['DELETE'] } }), false);
  });

  it('prefix, suffix, equals-ignore-case, wildcard, anything-but with a prefix', () => {
    assert.equal(matches({ detail: { 'image-tag': [{ prefix: 'Release-' }] } }), true);
    assert.equal(matches({ detail: { 'image-tag': [{ prefix: { 'equals-ignore-case': 'release-' } }] } }), true);
    assert.equal(matches({ detail: { 'image-tag': [{ suffix: '-1' }] } }), true);
    assert.equal(matches({ detail: { 'image-tag': [{ 'equals-ignore-case': 'RELEASE-1' }] } }), true);
    assert.equal(matches({ detail: { 'image-tag': [{ wildcard: 'Rel*-?' }] } }), false);
    assert.equal(matches({ detail: { 'image-tag': [{ wildcard: 'Rel*1' }] } }), true);
    assert.equal(matches({ detail: { 'image-tag': [{ 'anything-but': { prefix: 'Release' } }] } }), false);
    assert.equal(matches({ detail: { 'image-tag': [{ 'anything-but': { prefix: 'dev' } }] } }), true);
  });

  it('exists: false matches a missing field only', () => {
    assert.equal(matches({ detail: { missing: [{ exists: false }] } }), true);
    assert.equal(matches({ detail: { size: [{ exists: false }] } }), false);
  });

  it('$or matches when any branch does', () => {
    assert.equal(matches({ $or: [{ source: ['aws.s3'] }, { detail: { size: [{ numeric: ['>=', 5] }] } }] }), true);
    assert.equal(matches({ $or: [{ source: ['aws.s3'] }, { detail: { size: [{ numeric: ['>', 5] }] } }] }), false);
  });

  it('refuses patterns EventBridge refuses', () => {
    for (const bad of ['not json', '[]', '{}', '{"source":"aws.ecr"}', '{"source":[]}', '{"a":[{"prefix":1}]}', '{"a":[{"numeric":["~",1]}]}', '{"a":[{"unknown":1}]}', '{"a":[{"exists":"yes"}]}']) {
      assert.throws(() => compilePattern(bad), InvalidPatternError, bad);
    }
  });
});

describe('ECR events in the EventBridge envelope', () => {
  const stored = { seq: 1, eventId: '0f0e0d0c-0b0a-4909-8807-060504030201', registryId: '123456789012', repositoryName: 'r', digest: 'sha256:' + 'a'.repeat(64), createdAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678) };

  it('a push is one ECR Image Action with the tag', () => {
    const [e, ...rest] = ecrEnvelopes({ ...stored, type: 'image.pushed', tag: 'v1', detail: {} }, 'eu-west-1');
    assert.equal(rest.length, 0);
    assert.deepEqual(e, {
      version: '0', id: stored.eventId, 'detail-type': 'ECR Image Action', source: 'aws.ecr', account: '123456789012', time: '2026-01-02T03:04:05Z',
      region: 'eu-west-1', resources: [], detail: { result: 'SUCCESS', 'repository-name': 'r', 'image-digest': stored.digest, 'action-type': 'PUSH', 'image-tag': 'v1' },
    });
  });

  it('deleting an image with two tags sends one event per tag, with distinct stable ids', () => {
    const events = ecrEnvelopes({ ...stored, type: 'image.deleted', tag: null, detail: { tags: ['a', 'b'] } }, 'us-east-1');
    assert.deepEqual(events.map((e) => e.detail['image-tag']), ['a', 'b']);
    assert.notEqual(events[0]!.id, events[1]!.id);
    assert.deepEqual(ecrEnvelopes({ ...stored, type: 'image.deleted', tag: null, detail: { tags: ['a', 'b'] } }, 'us-east-1').map((e) => e.id), events.map((e) => e.id));
  });

  it('changes ECR does not announce send nothing', () => {
    assert.deepEqual(ecrEnvelopes({ ...stored, type: 'repository.created', tag: null, detail: {} }, 'us-east-1'), []);
  });
});
