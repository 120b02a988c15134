// ECR Public input validation, generated from botocore's model, and public repository paths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATIONS } from '../../src/doors/ecr-public/operations/index.js';
import { OPERATION_INPUTS } from '../../src/doors/ecr-public/model.js';
import { validateInput } from '../../src/doors/ecr-public/validate.js';
import { EcrPublicError } from '../../src/doors/ecr-public/errors.js';
import { publicNamespace, publicNamespaceAccount } from '../../src/domain/registry/names.js';
import { parsePublicPath, parsePublicRepositoryArn } from '../../src/domain/registry/public-registries.js';
import { isValidRepositoryName } from '../../src/domain/registry/names.js';

function rejects(operation: string, input: Record<string, unknown>, type: string, message?: RegExp): void {
  assert.throws(
    () => validateInput(operation, input),
    (e: unknown) => e instanceof EcrPublicError && e.type === type && (message === undefined || message.test(e.message)),
  );
}

describe('ECR Public validation from the model', () => {
  it('every operation of the model has a handler, and nothing else does', () => {
    assert.deepEqual(Object.keys(OPERATIONS).sort(), Object.keys(OPERATION_INPUTS).sort());
    assert.equal(Object.keys(OPERATION_INPUTS).length, 23);
  });

  it('required members, lengths, patterns and ranges give InvalidParameterException in ECR wording', () => {
    rejects('CreateRepository', {}, 'InvalidParameterException', /^Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'$/);
    rejects('CreateRepository', { repositoryName: 'a' }, 'InvalidParameterException', /must have length greater than or equal to 2/);
    rejects('CreateRepository', { repositoryName: 'a'.repeat(206) }, 'InvalidParameterException', /must have length less than or equal to 205/);
    rejects('CreateRepository', { repositoryName: 'Upper' }, 'InvalidParameterException', /'repositoryName'.*regular expression/);
    rejects('DescribeRepositories', { registryId: '12345' }, 'InvalidParameterException', /'registryId'/);
    rejects('DescribeImages', { repositoryName: 'ab', maxResults: 0 }, 'InvalidParameterException', /greater than or equal to 1/);
    rejects('BatchDeleteImage', { repositoryName: 'ab', imageIds: [] }, 'InvalidParameterException', /'imageIds'/);
    rejects('BatchDeleteImage', { repositoryName: 'ab', imageIds: [{ imageTag: '' }] }, 'InvalidParameterException', /'imageIds\.1\.member\.imageTag'/);
    rejects('PutRepositoryCatalogData', { repositoryName: 'ab', catalogData: { description: 'd'.repeat(1025) } }, 'InvalidParameterException', /'catalogData\.description'/);
    rejects('CompleteLayerUpload', { repositoryName: 'ab', uploadId: 'not-a-uuid', layerDigests: ['sha256:00'] }, 'InvalidParameterException', /'uploadId'/);
  });

  it('wrong JSON types and bad base64 are serialization failures', () => {
    rejects('CreateRepository', { repositoryName: 7 }, 'SerializationException');
    rejects('DeleteRepository', { repositoryName: 'ab', force: 'yes' }, 'SerializationException');
    rejects('CreateRepository', { repositoryName: 'ab', catalogData: { logoImageBlob: 'not base64!' } }, 'SerializationException');
    rejects('CreateRepository', { repositoryName: 'ab', catalogData: { logoImageBlob: Buffer.alloc(512_001).toString('base64') } }, 'InvalidParameterException', /logoImageBlob/);
  });

  it('accepts what the model allows, including an alias where registryId may be one', () => {
    validateInput('CreateRepository', { repositoryName: 'team/web', catalogData: { architectures: ['ARM 64'], logoImageBlob: 'iVBORw==' }, tags: [{ Key: 'k', Value: '' }] });
    validateInput('InitiateLayerUpload', { registryId: 'a1b2c3d4', repositoryName: 'ab' });
    rejects('DescribeImages', { registryId: 'a1b2c3d4', repositoryName: 'ab' }, 'InvalidParameterException', /'registryId'/);
  });

  it('reads JSON null as an absent member', () => {
    rejects('CreateRepository', { repositoryName: null }, 'InvalidParameterException', /must not be null/);
    assert.deepEqual(validateInput('DescribeImages', { repositoryName: 'ab', imageIds: null, nextToken: null, catalog: { x: null } }), { repositoryName: 'ab', catalog: {} });
  });
});

describe('public repository paths and namespaces', () => {
  it('a /v2 path under ecr--public/ names an alias and a repository; nothing a private repository may be called', () => {
    assert.deepEqual(parsePublicPath('ecr--public/a1b2c3d4/team/web'), { alias: 'a1b2c3d4', name: 'team/web' });
    assert.equal(parsePublicPath('ecr--public/a1b2c3d4'), undefined);
    assert.equal(parsePublicPath('ecr-public/a1b2c3d4/web'), undefined);
    assert.equal(parsePublicPath('team/web'), undefined);
    assert.equal(isValidRepositoryName('ecr--public/a1b2c3d4/web'), false);
  });

  it('the public namespace is no account id, and ARNs map into it', () => {
    assert.equal(publicNamespaceAccount(publicNamespace('123456789012')), '123456789012');
    assert.equal(publicNamespaceAccount('123456789012'), undefined);
    assert.deepEqual(parsePublicRepositoryArn('arn:aws:ecr-public::123456789012:repository/team/web'), {
      accountId: '123456789012',
      registryId: publicNamespace('123456789012'),
      name: 'team/web',
    });
    assert.equal(parsePublicRepositoryArn('arn:aws:ecr:us-east-1:123456789012:repository/team/web'), undefined);
  });
});
