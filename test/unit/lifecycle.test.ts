import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLifecyclePolicy,
  checkLifecyclePolicyTextLength,
  LifecyclePolicyValidationError,
  evaluateLifecycle,
  previewResult,
  matchesTagPattern,
  type LifecycleImage,
} from '../../src/domain/lifecycle/index.js';

const NOW = new Date('2024-06-15T12:00:00.000Z');
const DAY_MS = 24 * 60 * 60 * 1000;

interface ImageSpec {
  name: string;
  tags: string[];
  pushedDaysAgo: number;
  pulledDaysAgo?: number;
}

function digestOf(name: string): string {
  return `sha256:${name.toLowerCase().padEnd(64, '0')}`;
}

function image(spec: ImageSpec): LifecycleImage {
  const result: LifecycleImage = {
    digest: digestOf(spec.name),
    tags: spec.tags,
    pushedAt: new Date(NOW.getTime() - spec.pushedDaysAgo * DAY_MS),
  };
  if (spec.pulledDaysAgo !== undefined) result.lastPulledAt = new Date(NOW.getTime() - spec.pulledDaysAgo * DAY_MS);
  return result;
}

function nameOf(digest: string): string {
  return digest.slice('sha256:'.length).replace(/0+$/, '').toUpperCase();
}

interface Rule {
  rulePriority: unknown;
  description?: unknown;
  selection: Record<string, unknown>;
  action: Record<string, unknown>;
}

function rule(rulePriority: number, selection: Record<string, unknown>): Rule {
  return { rulePriority, description: `Rule ${rulePriority}`, selection, action: { type: 'expire' } };
}

function transitionRule(rulePriority: number, selection: Record<string, unknown>): Rule {
  return { rulePriority, selection, action: { type: 'transition', targetStorageClass: 'archive' } };
}

function policyText(rules: unknown[]): string {
  return JSON.stringify({ rules }, null, 2);
}

/** Runs the policy and returns expired image names with the rule that expired each. */
function expire(rules: unknown[], images: ImageSpec[]): Array<[string, number]> {
  const policy = parseLifecyclePolicy(policyText(rules));
  return evaluateLifecycle(policy, images.map(image), NOW).map((d) => [nameOf(d.digest), d.rulePriority]);
}

// The repositories and outcomes of AWS's lifecycle_policy_examples page.
const multipleRulesRepo: ImageSpec[] = [
  { name: 'A', tags: ['beta-1', 'prod-1'], pushedDaysAgo: 10 },
  { name: 'B', tags: ['beta-2', 'prod-2'], pushedDaysAgo: 9 },
  { name: 'C', tags: ['beta-3'], pushedDaysAgo: 8 },
];
const multipleTagsRepoA: ImageSpec[] = [
  { name: 'A', tags: ['alpha-1'], pushedDaysAgo: 12 },
  { name: 'B', tags: ['beta-1'], pushedDaysAgo: 11 },
  { name: 'C', tags: ['alpha-2', 'beta-2'], pushedDaysAgo: 10 },
  { name: 'D', tags: ['alpha-3'], pushedDaysAgo: 4 },
  { name: 'E', tags: ['beta-3'], pushedDaysAgo: 3 },
  { name: 'F', tags: ['alpha-4', 'beta-4'], pushedDaysAgo: 2 },
];
const multipleTagsRepoB: ImageSpec[] = [
  { name: 'A', tags: ['alpha-1', 'beta-1', 'gamma-1'], pushedDaysAgo: 10 },
  { name: 'B', tags: ['alpha-2', 'beta-2'], pushedDaysAgo: 9 },
  { name: 'C', tags: ['alpha-3', 'beta-3', 'gamma-2'], pushedDaysAgo: 8 },
];
const countKeepOne = { countType: 'imageCountMoreThan', countNumber: 1 };

interface ExampleCase {
  name: string;
  rules: unknown[];
  images: ImageSpec[];
  expired: Array<[string, number]>;
}

const awsExamples: ExampleCase[] = [
  {
    name: 'image age: untagged images older than 14 days',
    rules: [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })],
    images: [
      { name: 'A', tags: [], pushedDaysAgo: 15 },
      { name: 'B', tags: [], pushedDaysAgo: 13 },
      { name: 'C', tags: ['v1'], pushedDaysAgo: 30 },
    ],
    expired: [['A', 1]],
  },
  {
    name: 'image age: tags matching prod* older than 14 days',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }),
    ],
    images: [
      { name: 'A', tags: ['prod'], pushedDaysAgo: 20 },
      { name: 'B', tags: ['production-team1'], pushedDaysAgo: 15 },
      { name: 'C', tags: ['prod1'], pushedDaysAgo: 10 },
      { name: 'D', tags: ['dev'], pushedDaysAgo: 20 },
      { name: 'E', tags: [], pushedDaysAgo: 20 },
    ],
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'image count: keep only one untagged image',
    rules: [rule(1, { tagStatus: 'untagged', ...countKeepOne })],
    images: [
      { name: 'A', tags: [], pushedDaysAgo: 3 },
      { name: 'B', tags: [], pushedDaysAgo: 2 },
      { name: 'C', tags: [], pushedDaysAgo: 1 },
      { name: 'D', tags: ['v1'], pushedDaysAgo: 9 },
    ],
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'multiple rules, example A (tagPrefixList): prod before beta expires only A',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], ...countKeepOne }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], ...countKeepOne }),
    ],
    images: multipleRulesRepo,
    expired: [['A', 1]],
  },
  {
    name: 'multiple rules, example A (tagPatternList): prod* before beta* expires only A',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], ...countKeepOne }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], ...countKeepOne }),
    ],
    images: multipleRulesRepo,
    expired: [['A', 1]],
  },
  {
    name: 'multiple rules, example B (tagPrefixList): beta before prod expires A and B',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['beta'], ...countKeepOne }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['prod'], ...countKeepOne }),
    ],
    images: multipleRulesRepo,
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'multiple rules, example B (tagPatternList): beta* before prod* expires A and B',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['beta*'], ...countKeepOne }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['prod*'], ...countKeepOne }),
    ],
    images: multipleRulesRepo,
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'multiple tags in one rule, example A (tagPrefixList): only images with alpha AND beta, older than 5 days',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha', 'beta'], countType: 'sinceImagePushed', countNumber: 5, countUnit: 'days' }),
    ],
    images: multipleTagsRepoA,
    expired: [['C', 1]],
  },
  {
    name: 'multiple tags in one rule, example A (tagPatternList)',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], countType: 'sinceImagePushed', countNumber: 5, countUnit: 'days' }),
    ],
    images: multipleTagsRepoA,
    expired: [['C', 1]],
  },
  {
    name: 'multiple tags in one rule, example B (tagPrefixList): tags are not exclusive',
    rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha', 'beta'], ...countKeepOne })],
    images: multipleTagsRepoB,
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'multiple tags in one rule, example B (tagPatternList)',
    rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], ...countKeepOne })],
    images: multipleTagsRepoB,
    expired: [['A', 1], ['B', 1]],
  },
  {
    name: 'all images, example A: any, keep the newest one',
    rules: [rule(1, { tagStatus: 'any', ...countKeepOne })],
    images: [
      { name: 'A', tags: ['alpha-1'], pushedDaysAgo: 4 },
      { name: 'B', tags: ['beta-1'], pushedDaysAgo: 3 },
      { name: 'C', tags: [], pushedDaysAgo: 2 },
      { name: 'D', tags: ['alpha-2'], pushedDaysAgo: 1 },
    ],
    expired: [['A', 1], ['B', 1], ['C', 1]],
  },
  {
    name: 'all images, example B: tagged, untagged and any rules combined',
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['alpha'], ...countKeepOne }),
      rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
      rule(3, { tagStatus: 'any', ...countKeepOne }),
    ],
    images: [
      { name: 'A', tags: ['alpha-1', 'beta-1'], pushedDaysAgo: 4 },
      { name: 'B', tags: [], pushedDaysAgo: 3 },
      { name: 'C', tags: ['alpha-2'], pushedDaysAgo: 2 },
      { name: 'D', tags: ['git hash'], pushedDaysAgo: 1 },
      // The docs list D and E both as "1 day ago" and keep E as the newest; E is pushed a minute after D.
      { name: 'E', tags: [], pushedDaysAgo: 1 - 1 / (24 * 60) },
    ],
    expired: [['A', 1], ['B', 2], ['D', 3]],
  },
];

describe('AWS lifecycle policy examples', () => {
  for (const example of awsExamples) {
    test(example.name, () => {
      assert.deepEqual(expire(example.rules, example.images), example.expired);
    });
  }
});

describe('claiming across rules', () => {
  test('images kept by an imageCountMoreThan rule are not expired by a lower-priority rule', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['release-1'], pushedDaysAgo: 100 },
      { name: 'B', tags: ['release-2'], pushedDaysAgo: 90 },
      { name: 'C', tags: ['release-3'], pushedDaysAgo: 80 },
      { name: 'D', tags: ['feature-x'], pushedDaysAgo: 70 },
      { name: 'E', tags: [], pushedDaysAgo: 60 },
    ];
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['release'], countType: 'imageCountMoreThan', countNumber: 2 }),
      rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
    ];
    assert.deepEqual(expire(rules, images), [['A', 1], ['D', 2], ['E', 2]]);
  });

  test('an image matched by a higher rule that expires nothing stays even when a lower rule marks it', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['keep-1', 'tmp-1'], pushedDaysAgo: 50 },
      { name: 'B', tags: ['tmp-2'], pushedDaysAgo: 40 },
    ];
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['keep'], countType: 'imageCountMoreThan', countNumber: 9999 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['tmp'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
    ];
    assert.deepEqual(expire(rules, images), [['B', 2]]);
  });

  test('a lower rule still counts claimed images when keeping its newest N', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['app-1'], pushedDaysAgo: 3 },
      { name: 'B', tags: ['app-2', 'pinned'], pushedDaysAgo: 2 },
      { name: 'C', tags: ['app-3', 'pinned-too'], pushedDaysAgo: 1 },
    ];
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['pinned'], countType: 'imageCountMoreThan', countNumber: 5 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['app'], countType: 'imageCountMoreThan', countNumber: 2 }),
    ];
    // Rule 2 keeps C and B (both claimed by rule 1) and marks A.
    assert.deepEqual(expire(rules, images), [['A', 2]]);
  });

  test('rules are applied by rulePriority, not by their order in the text', () => {
    const rules = [
      rule(20, { tagStatus: 'tagged', tagPrefixList: ['prod'], ...countKeepOne }),
      rule(10, { tagStatus: 'tagged', tagPrefixList: ['beta'], ...countKeepOne }),
    ];
    assert.deepEqual(expire(rules, multipleRulesRepo), [['A', 10], ['B', 10]]);
  });
});

describe('tag selection', () => {
  test('every prefix must match some tag; one tag may satisfy several prefixes', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['prod-eu-1'], pushedDaysAgo: 10 },
      { name: 'B', tags: ['prod-us-1'], pushedDaysAgo: 10 },
      { name: 'C', tags: ['prod-us-2', 'prod-eu-2'], pushedDaysAgo: 10 },
    ];
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod', 'prod-eu'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
    ];
    assert.deepEqual(expire(rules, images), [['A', 1], ['C', 1]]);
  });

  test('a pattern without wildcards matches a whole tag only', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['latest'], pushedDaysAgo: 10 },
      { name: 'B', tags: ['latest-2'], pushedDaysAgo: 10 },
      { name: 'C', tags: ['not-latest'], pushedDaysAgo: 10 },
    ];
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['latest'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
    ];
    assert.deepEqual(expire(rules, images), [['A', 1]]);
  });

  test('wildcard patterns', () => {
    const cases: Array<[string, string, boolean]> = [
      ['prod*', 'prod', true],
      ['prod*', 'prod1', true],
      ['prod*', 'production-team1', true],
      ['prod*', 'preprod', false],
      ['*prod*', 'repo-production', true],
      ['*prod', 'preprod', true],
      ['*prod', 'production', false],
      ['v*.*.*', 'v1.2.3', true],
      ['v*.*.*', 'v1.2', false],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['*test*1*2*3', 'my-test-1-2-3', true],
      ['*test*1*2*3', 'my-test-1-3-2', false],
      ['*', 'anything', true],
      ['*', '', true],
      ['x*y*z', 'xyyz', true],
      ['x*y*z', 'xzyz', true],
      ['x*y*z', 'xzz', false],
      ['Prod*', 'prod', false],
    ];
    for (const [pattern, tag, expected] of cases) {
      assert.equal(matchesTagPattern(pattern, tag), expected, `${pattern} vs ${tag}`);
    }
  });

  test('tagged rules never select untagged images, untagged rules never select tagged ones', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: [], pushedDaysAgo: 10 },
      { name: 'B', tags: ['x'], pushedDaysAgo: 10 },
    ];
    assert.deepEqual(
      expire([rule(1, { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })], images),
      [['B', 1]],
    );
    assert.deepEqual(
      expire([rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })], images),
      [['A', 1]],
    );
  });
});

describe('age rules', () => {
  test('sinceImagePushed expires only images strictly older than N days', () => {
    const policy = parseLifecyclePolicy(
      policyText([rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 })]),
    );
    const exactly = { digest: digestOf('A'), tags: [], pushedAt: new Date(NOW.getTime() - 7 * DAY_MS) };
    const older = { digest: digestOf('B'), tags: [], pushedAt: new Date(NOW.getTime() - 7 * DAY_MS - 1) };
    assert.deepEqual(
      evaluateLifecycle(policy, [exactly, older], NOW).map((d) => d.digest),
      [older.digest],
    );
  });

  test('sinceImagePulled uses the last pull time, or the push time for images never pulled', () => {
    const images: ImageSpec[] = [
      { name: 'A', tags: ['v1'], pushedDaysAgo: 100, pulledDaysAgo: 2 },
      { name: 'B', tags: ['v2'], pushedDaysAgo: 100, pulledDaysAgo: 40 },
      { name: 'C', tags: ['v3'], pushedDaysAgo: 45 },
      { name: 'D', tags: ['v4'], pushedDaysAgo: 5 },
    ];
    const rules = [transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 })];
    assert.deepEqual(expire(rules, images), [['B', 1], ['C', 1]]);
  });
});

describe('result order and preview', () => {
  test('results are oldest first and do not depend on input order; push-time ties break by digest', () => {
    const specs: ImageSpec[] = [
      { name: 'C', tags: [], pushedDaysAgo: 5 },
      { name: 'A', tags: [], pushedDaysAgo: 5 },
      { name: 'B', tags: [], pushedDaysAgo: 9 },
      { name: 'D', tags: [], pushedDaysAgo: 1 },
    ];
    const rules = [rule(1, { tagStatus: 'untagged', ...countKeepOne })];
    const forward = expire(rules, specs);
    const backward = expire(rules, [...specs].reverse());
    assert.deepEqual(forward, [['B', 1], ['A', 1], ['C', 1]]);
    assert.deepEqual(backward, forward);

    // Among equal push times, the lower digest counts as the newer image for imageCountMoreThan.
    const tied: ImageSpec[] = [
      { name: 'F', tags: [], pushedDaysAgo: 2 },
      { name: 'E', tags: [], pushedDaysAgo: 2 },
    ];
    assert.deepEqual(expire(rules, tied), [['F', 1]]);
  });

  test('previewResult maps decisions to ECR preview results and a summary', () => {
    const policy = parseLifecyclePolicy(policyText([rule(3, { tagStatus: 'tagged', tagPrefixList: ['beta'], ...countKeepOne })]));
    const decisions = evaluateLifecycle(policy, multipleRulesRepo.map(image), NOW);
    const preview = previewResult(decisions);
    assert.deepEqual(preview, {
      previewResults: [
        {
          imageTags: ['beta-1', 'prod-1'],
          imageDigest: digestOf('A'),
          imagePushedAt: (NOW.getTime() - 10 * DAY_MS) / 1000,
          action: { type: 'EXPIRE' },
          appliedRulePriority: 3,
          storageClass: 'STANDARD',
        },
        {
          imageTags: ['beta-2', 'prod-2'],
          imageDigest: digestOf('B'),
          imagePushedAt: (NOW.getTime() - 9 * DAY_MS) / 1000,
          action: { type: 'EXPIRE' },
          appliedRulePriority: 3,
          storageClass: 'STANDARD',
        },
      ],
      summary: { expiringImageTotalCount: 2 },
    });
    assert.deepEqual(previewResult([]), { previewResults: [], summary: { expiringImageTotalCount: 0 } });
  });
});

describe('parseLifecyclePolicy', () => {
  test('returns typed rules in priority order, with description optional and countUnit kept', () => {
    const text = policyText([
      { rulePriority: 5, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
      { rulePriority: 2, description: 'keep releases', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 10, storageClass: 'standard' }, action: { type: 'expire' } },
    ]);
    assert.deepEqual(parseLifecyclePolicy(text), {
      rules: [
        { rulePriority: 2, description: 'keep releases', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], storageClass: 'standard', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } },
        { rulePriority: 5, selection: { tagStatus: 'any', storageClass: 'standard', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
      ],
    });
  });

  test('accepts up to four wildcards per pattern (the documented valid example)', () => {
    const text = policyText([rule(1, { tagStatus: 'tagged', tagPatternList: ['*test*1*2*3', 'test*1*2*3*'], ...countKeepOne })]);
    assert.equal(parseLifecyclePolicy(text).rules[0]?.selection.tagPatternList?.length, 2);
  });

  const PREFIX = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ";
  const valid = (priority: number) => rule(priority, { tagStatus: 'untagged', ...countKeepOne });
  const manyRules = Array.from({ length: 51 }, (_, i) =>
    rule(i + 1, { tagStatus: 'tagged', tagPrefixList: [`p${i}`], ...countKeepOne }),
  );

  const invalid: Array<{ name: string; text: string; reason: string }> = [
    { name: 'not JSON', text: '{"rules": [', reason: 'Could not map policyString into LifecyclePolicy.' },
    { name: 'JSON that is not an object', text: '[{"rulePriority": 1}]', reason: 'Could not map policyString into LifecyclePolicy.' },
    { name: 'missing rules', text: '{"no_rules": "test"}', reason: 'object has missing required properties (["rules"])' },
    { name: 'unknown top-level property', text: JSON.stringify({ rules: [valid(1)], version: 1 }), reason: 'object instance has properties which are not allowed by the schema: (["version"])' },
    { name: 'rules not an array', text: JSON.stringify({ rules: valid(1) }), reason: 'instance type (object) does not match any allowed primitive type (allowed: ["array"])' },
    { name: 'empty rules', text: policyText([]), reason: 'array is too short: must have at least 1 elements but instance has 0 elements' },
    { name: 'more than 50 rules', text: policyText(manyRules), reason: 'array is too long: must have at most 50 elements but instance has 51 elements' },
    { name: 'rule not an object', text: policyText(['rule']), reason: 'instance type (string) does not match any allowed primitive type (allowed: ["object"])' },
    { name: 'rule missing required properties', text: policyText([{ selection: {} }]), reason: 'object has missing required properties (["action","rulePriority"])' },
    { name: 'unknown rule property', text: policyText([{ ...valid(1), enabled: true }]), reason: 'object instance has properties which are not allowed by the schema: (["enabled"])' },
    { name: 'rulePriority 0', text: policyText([valid(0)]), reason: 'numeric instance is lower than the required minimum (minimum: 1, found: 0)' },
    { name: 'rulePriority not an integer', text: policyText([{ ...valid(1), rulePriority: 1.5 }]), reason: 'instance type (number) does not match any allowed primitive type (allowed: ["integer"])' },
    { name: 'rulePriority a string', text: policyText([{ ...valid(1), rulePriority: '1' }]), reason: 'instance type (string) does not match any allowed primitive type (allowed: ["integer"])' },
    { name: 'duplicate rulePriority', text: policyText([rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], ...countKeepOne }), rule(1, { tagStatus: 'tagged', tagPrefixList: ['b'], ...countKeepOne })]), reason: 'Rule priorities must be unique. Found duplicate rulePriority 1.' },
    { name: 'description not a string', text: policyText([{ ...valid(1), description: 7 }]), reason: 'instance type (integer) does not match any allowed primitive type (allowed: ["string"])' },
    { name: 'selection missing tagStatus', text: policyText([rule(1, { ...countKeepOne })]), reason: 'object has missing required properties (["tagStatus"])' },
    { name: 'unknown selection property', text: policyText([rule(1, { tagStatus: 'untagged', ...countKeepOne, tagSuffixList: ['x'] })]), reason: 'object instance has properties which are not allowed by the schema: (["tagSuffixList"])' },
    { name: 'tagStatus not in enum', text: policyText([rule(1, { tagStatus: 'TAGGED', tagPrefixList: ['a'], ...countKeepOne })]), reason: 'instance value ("TAGGED") not found in enum :(possible values: ["any","tagged","untagged"])' },
    { name: 'tagged without a tag list', text: policyText([rule(1, { tagStatus: 'tagged', ...countKeepOne })]), reason: 'tagPrefixList or tagPatternList is required when tagStatus is tagged' },
    { name: 'tagged with both lists', text: policyText([rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], tagPatternList: ['a*'], ...countKeepOne })]), reason: 'tagPrefixList and tagPatternList cannot both be specified in one rule' },
    { name: 'untagged with a prefix list', text: policyText([rule(1, { tagStatus: 'untagged', tagPrefixList: ['a'], ...countKeepOne })]), reason: 'tagPrefixList and tagPatternList can only be specified when tagStatus is tagged' },
    { name: 'any with a pattern list', text: policyText([rule(1, { tagStatus: 'any', tagPatternList: ['a*'], ...countKeepOne })]), reason: 'tagPrefixList and tagPatternList can only be specified when tagStatus is tagged' },
    { name: 'empty tag list', text: policyText([rule(1, { tagStatus: 'tagged', tagPrefixList: [], ...countKeepOne })]), reason: 'array is too short: must have at least 1 elements but instance has 0 elements' },
    { name: 'tag list entry not a string', text: policyText([rule(1, { tagStatus: 'tagged', tagPatternList: [1], ...countKeepOne })]), reason: 'instance type (integer) does not match any allowed primitive type (allowed: ["string"])' },
    { name: 'pattern with more than four wildcards', text: policyText([rule(1, { tagStatus: 'tagged', tagPatternList: ['test*1*2*3*4*5*6'], ...countKeepOne })]), reason: 'tagPatternList entry "test*1*2*3*4*5*6" has 6 wildcards; at most 4 are allowed' },
    { name: 'countType not in enum', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'imageCountLessThan', countNumber: 1 })]), reason: 'instance failed to match exactly one schema (matched 0 out of 2)' },
    { name: 'countUnit missing for sinceImagePushed', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 })]), reason: 'instance failed to match exactly one schema (matched 0 out of 2)' },
    { name: 'countUnit missing for sinceImagePulled', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'sinceImagePulled', countNumber: 1 })]), reason: 'instance failed to match exactly one schema (matched 0 out of 2)' },
    { name: 'countUnit with imageCountMoreThan', text: policyText([rule(1, { tagStatus: 'untagged', ...countKeepOne, countUnit: 'days' })]), reason: 'instance failed to match exactly one schema (matched 0 out of 2)' },
    { name: 'countUnit other than days', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'hours', countNumber: 1 })]), reason: 'instance value ("hours") not found in enum :(possible values: ["days"])' },
    { name: 'countNumber 0', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 0 })]), reason: 'numeric instance is lower than the required minimum (minimum: 1, found: 0)' },
    { name: 'countNumber negative', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: -3 })]), reason: 'numeric instance is lower than the required minimum (minimum: 1, found: -3)' },
    { name: 'countNumber fractional', text: policyText([rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2.5 })]), reason: 'instance type (number) does not match any allowed primitive type (allowed: ["integer"])' },
    { name: 'storageClass other than standard', text: policyText([rule(1, { tagStatus: 'untagged', ...countKeepOne, storageClass: 'glacier' })]), reason: 'instance value ("glacier") not found in enum :(possible values: ["archive","standard"])' },
    { name: 'action type other than expire', text: policyText([{ ...valid(1), action: { type: 'delete' } }]), reason: 'instance value ("delete") not found in enum :(possible values: ["expire","transition"])' },
    { name: 'action missing type', text: policyText([{ ...valid(1), action: {} }]), reason: 'object has missing required properties (["type"])' },
    { name: 'unknown action property', text: policyText([{ ...valid(1), action: { type: 'expire', keep: true } }]), reason: 'object instance has properties which are not allowed by the schema: (["keep"])' },
    { name: 'targetStorageClass on an expire action', text: policyText([{ ...valid(1), action: { type: 'expire', targetStorageClass: 'archive' } }]), reason: 'targetStorageClass can only be specified when the action type is transition' },
    { name: 'transition without targetStorageClass', text: policyText([{ ...valid(1), action: { type: 'transition' } }]), reason: 'targetStorageClass is required when the action type is transition' },
    { name: 'transition to a class other than archive', text: policyText([{ ...valid(1), action: { type: 'transition', targetStorageClass: 'standard' } }]), reason: 'instance value ("standard") not found in enum :(possible values: ["archive"])' },
    { name: 'sinceImagePulled with expire', text: policyText([rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 })]), reason: 'countType sinceImagePulled can only be used with the transition action' },
    { name: 'sinceImageTransitioned with transition', text: policyText([transitionRule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 })]), reason: 'countType sinceImageTransitioned can only be used with the expire action' },
    { name: 'sinceImageTransitioned without storageClass archive', text: policyText([rule(1, { tagStatus: 'any', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 })]), reason: 'storageClass archive is required when countType is sinceImageTransitioned' },
    { name: 'storageClass archive with sinceImagePushed', text: policyText([rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 90 })]), reason: 'storageClass must be standard when countType is sinceImagePushed' },
    { name: 'sinceImageTransitioned under the 90-day archive minimum', text: policyText([rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 89 })]), reason: 'You cannot configure lifecycle policies that delete images that have been in archive for less than 90 days (countNumber must be at least 90 with sinceImageTransitioned)' },
    { name: 'countUnit missing for sinceImageTransitioned', text: policyText([rule(1, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countNumber: 90 })]), reason: 'instance failed to match exactly one schema (matched 0 out of 2)' },
    { name: 'two untagged rules in the archive storage class', text: policyText([rule(1, { tagStatus: 'untagged', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 }), rule(2, { tagStatus: 'untagged', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 120 })]), reason: 'Only one rule can select Untagged images per storage class.' },
    { name: 'tagStatus any without the highest rulePriority', text: policyText([rule(1, { tagStatus: 'any', ...countKeepOne }), rule(2, { tagStatus: 'untagged', ...countKeepOne })]), reason: 'Rule for tagStatus=ANY must have the lowest priority per storage class' },
    { name: 'two rules selecting untagged images', text: policyText([valid(1), valid(2)]), reason: 'Only one rule can select Untagged images per storage class.' },
    { name: 'two rules with the same tag prefixes', text: policyText([rule(1, { tagStatus: 'tagged', tagPrefixList: ['a', 'b'], ...countKeepOne }), rule(2, { tagStatus: 'tagged', tagPrefixList: ['b', 'a'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 3 })]), reason: 'The set of rules must contain a unique set of tag prefixes and tag patterns.' },
  ];

  for (const { name, text, reason } of invalid) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => parseLifecyclePolicy(text),
        (error: unknown) => {
          assert.ok(error instanceof LifecyclePolicyValidationError);
          assert.equal(error.code, 'InvalidParameterException');
          assert.equal(error.reason, reason);
          assert.equal(error.message, `${PREFIX}${reason}'`);
          return true;
        },
      );
    });
  }

  test('a prefix list and an identical pattern list in different rules are both allowed', () => {
    const text = policyText([
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], ...countKeepOne }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['a'], ...countKeepOne }),
    ]);
    assert.equal(parseLifecyclePolicy(text).rules.length, 2);
  });
});

describe('checkLifecyclePolicyTextLength', () => {
  test('accepts 100 to 30720 characters and rejects the rest with the model constraint message', () => {
    assert.doesNotThrow(() => checkLifecyclePolicyTextLength('x'.repeat(100)));
    assert.doesNotThrow(() => checkLifecyclePolicyTextLength('x'.repeat(30720)));
    assert.throws(() => checkLifecyclePolicyTextLength('x'.repeat(99)), {
      name: 'LifecyclePolicyValidationError',
      message: "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length greater than or equal to 100'",
    });
    assert.throws(() => checkLifecyclePolicyTextLength('x'.repeat(30721)), {
      name: 'LifecyclePolicyValidationError',
      message: "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length less than or equal to 30720'",
    });
  });
});

describe('archive storage class', () => {
  interface ArchiveSpec extends ImageSpec {
    archivedDaysAgo?: number;
    activatedDaysAgo?: number;
  }
  const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
  function archiveImage(spec: ArchiveSpec): LifecycleImage {
    const result = image(spec);
    if (spec.archivedDaysAgo !== undefined) {
      result.storageClass = 'archive';
      result.lastArchivedAt = ago(spec.archivedDaysAgo);
    }
    if (spec.activatedDaysAgo !== undefined) result.lastActivatedAt = ago(spec.activatedDaysAgo);
    return result;
  }
  function decide(rules: unknown[], specs: ArchiveSpec[]): Array<[string, number, string]> {
    const policy = parseLifecyclePolicy(policyText(rules));
    return evaluateLifecycle(policy, specs.map(archiveImage), NOW).map((d) => [nameOf(d.digest), d.rulePriority, d.action]);
  }

  test('the documented combined policy: archive after 30 days, expire what has been archived for 365', () => {
    const rules = [
      transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
    ];
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['v1'], pushedDaysAgo: 500, archivedDaysAgo: 400 },
      { name: 'B', tags: ['v2'], pushedDaysAgo: 300, archivedDaysAgo: 200 },
      { name: 'C', tags: ['v3'], pushedDaysAgo: 40 },
      { name: 'D', tags: ['v4'], pushedDaysAgo: 10 },
    ];
    // A rule only sees its own storage class: rule 1 never re-archives A or B, rule 2 never touches C.
    assert.deepEqual(decide(rules, specs), [['A', 2, 'EXPIRE'], ['C', 1, 'TRANSITION']]);
  });

  test('imageCountMoreThan with transition keeps the newest N active and archives the rest', () => {
    const rules = [transitionRule(1, { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'imageCountMoreThan', countNumber: 2 })];
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['a'], pushedDaysAgo: 4 },
      { name: 'B', tags: ['b'], pushedDaysAgo: 3 },
      { name: 'C', tags: ['c'], pushedDaysAgo: 2 },
      { name: 'D', tags: ['d'], pushedDaysAgo: 9, archivedDaysAgo: 5 },
    ];
    assert.deepEqual(decide(rules, specs), [['A', 1, 'TRANSITION']]);
  });

  test('a restored image counts from its restore for imageCountMoreThan', () => {
    const rules = [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })];
    // A was pushed long ago but restored yesterday: it is the newest.
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['a'], pushedDaysAgo: 50, activatedDaysAgo: 1 },
      { name: 'B', tags: ['b'], pushedDaysAgo: 3 },
    ];
    assert.deepEqual(decide(rules, specs), [['B', 1, 'EXPIRE']]);
  });

  test('sinceImagePulled measures a restored image not pulled since from its restore', () => {
    const rules = [transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 })];
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['a'], pushedDaysAgo: 200, pulledDaysAgo: 150, activatedDaysAgo: 5 }, // restored, not pulled since: 5 days
      { name: 'B', tags: ['b'], pushedDaysAgo: 200, pulledDaysAgo: 40, activatedDaysAgo: 100 }, // pulled after the restore: 40 days
      { name: 'C', tags: ['c'], pushedDaysAgo: 200, activatedDaysAgo: 60 }, // never pulled, restored 60 days ago
    ];
    assert.deepEqual(decide(rules, specs), [['B', 1, 'TRANSITION'], ['C', 1, 'TRANSITION']]);
  });

  test('sinceImageTransitioned expires archived images strictly older than N days in the archive', () => {
    const rules = [rule(1, { tagStatus: 'tagged', tagPrefixList: ['v'], storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 })];
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['v1'], pushedDaysAgo: 300, archivedDaysAgo: 91 },
      { name: 'B', tags: ['v2'], pushedDaysAgo: 300, archivedDaysAgo: 90 },
      { name: 'C', tags: ['x1'], pushedDaysAgo: 300, archivedDaysAgo: 200 },
      { name: 'D', tags: ['v3'], pushedDaysAgo: 300 },
    ];
    assert.deepEqual(decide(rules, specs), [['A', 1, 'EXPIRE']]);
  });

  test('an any rule per storage class may each be the last of its class', () => {
    const text = policyText([
      transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
      rule(3, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 }),
    ]);
    // The standard class's any rule (1) is not its last rule: refused.
    assert.throws(() => parseLifecyclePolicy(text), /Rule for tagStatus=ANY must have the lowest priority per storage class/);
    const anyNotLastInArchive = policyText([
      transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 }),
      rule(3, { tagStatus: 'untagged', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 100 }),
    ]);
    assert.throws(() => parseLifecyclePolicy(anyNotLastInArchive), /lowest priority per storage class/);
    const parsed = parseLifecyclePolicy(
      policyText([
        transitionRule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
        rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
      ]),
    );
    assert.deepEqual(
      parsed.rules.map((r) => [r.selection.storageClass, r.action]),
      [
        ['standard', { type: 'transition', targetStorageClass: 'archive' }],
        ['archive', { type: 'expire' }],
      ],
    );
  });

  test('the preview shows transitions with their target and counts them apart in the summary', () => {
    const rules = [
      transitionRule(1, { tagStatus: 'tagged', tagPrefixList: ['old'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
      rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }),
    ];
    const policy = parseLifecyclePolicy(policyText(rules));
    const specs: ArchiveSpec[] = [
      { name: 'A', tags: ['old-1'], pushedDaysAgo: 40 },
      { name: 'B', tags: [], pushedDaysAgo: 3 },
      { name: 'C', tags: [], pushedDaysAgo: 2 },
    ];
    const preview = previewResult(evaluateLifecycle(policy, specs.map(archiveImage), NOW));
    assert.deepEqual(
      preview.previewResults.map((r) => [r.imageDigest, r.action, r.storageClass]),
      [
        [digestOf('A'), { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' }, 'STANDARD'],
        [digestOf('B'), { type: 'EXPIRE' }, 'STANDARD'],
      ],
    );
    assert.deepEqual(preview.summary, { expiringImageTotalCount: 1, transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 1 }] });
  });
});
