import { randomUUID } from 'node:crypto';
import type { AuditRow } from '../../store/meta/audit-store.js';

/** Who made a call, as the door authenticated them. */
export interface AuditedPrincipal {
  arn: string;
  account: string;
  userName?: string;
  accessKeyId?: string;
  anonymous: boolean;
}

/** One API call as a door saw it, to be recorded the CloudTrail way. */
export interface AuditedCall {
  requestId: string;
  /** Epoch ms the request arrived. */
  time: number;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  principal: AuditedPrincipal;
  /** The user's unique id (AIDA…), when known. */
  principalId?: string;
  sourceIp: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  recipientAccountId?: string;
  region: string;
}

/** What CloudTrail writes in place of a value it will not record. */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';
/** Keys whose values never enter the trail: credentials, tokens, and bodies not worth keeping. */
const SECRET_KEY = /password|secret|token|credential|authorizationdata|privatekey|imagemanifest|layerpartblob|plaintext|ciphertextblob|apikeyvalue/i;
/** A record longer than this has its large parameters or response left out, as CloudTrail omits oversized ones. */
const MAX_ELEMENT_CHARS = 100_000;

/** A copy of `value` with every secret-looking key's value replaced by HIDDEN. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? HIDDEN : redact(v);
  return out;
}

function element(value: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  return value ? (redact(value) as Record<string, unknown>) : null;
}

const OMITTED = { omitted: true, reason: 'larger than the trail keeps' };

function userIdentity(call: AuditedCall): Record<string, unknown> {
  const p = call.principal;
  if (p.anonymous) return { type: 'AWSAccount', principalId: '', accountId: 'anonymous' };
  if (p.arn.endsWith(':root')) return { type: 'Root', principalId: p.account, arn: p.arn, accountId: p.account, ...(p.accessKeyId ? { accessKeyId: p.accessKeyId } : {}) };
  return {
    type: 'IAMUser',
    principalId: call.principalId ?? p.userName ?? '',
    arn: p.arn,
    accountId: p.account,
    ...(p.accessKeyId ? { accessKeyId: p.accessKeyId } : {}),
    ...(p.userName ? { userName: p.userName } : {}),
  };
}

interface NamedResource {
  type: string;
  name: string;
  arn: string;
  accountId: string;
}

/** The resource a call addressed, from its parameters: an ECR repository, or an IAM user, group or policy. */
function resourceOf(call: AuditedCall): NamedResource | undefined {
  const params = call.requestParameters ?? {};
  const account = call.recipientAccountId ?? call.principal.account;
  const str = (k: string) => (typeof params[k] === 'string' ? (params[k] as string) : undefined);
  if (call.eventSource === 'ecr.amazonaws.com') {
    const repo = str('repositoryName');
    const registryId = str('registryId') ?? account;
    if (repo) return { type: 'AWS::ECR::Repository', name: repo, arn: `arn:aws:ecr:${call.region}:${registryId}:repository/${repo}`, accountId: registryId };
  }
  if (call.eventSource === 'iam.amazonaws.com') {
    const policyArn = str('policyArn');
    if (policyArn) return { type: 'AWS::IAM::Policy', name: policyArn, arn: policyArn, accountId: account };
    const user = str('userName');
    if (user) return { type: 'AWS::IAM::User', name: user, arn: `arn:aws:iam::${account}:user/${user}`, accountId: account };
    const group = str('groupName');
    if (group) return { type: 'AWS::IAM::Group', name: group, arn: `arn:aws:iam::${account}:group/${group}`, accountId: account };
  }
  return undefined;
}

/** The CloudTrail record of a call, and the row that stores it. */
export function auditRow(call: AuditedCall, eventId: string = randomUUID()): AuditRow {
  const resource = resourceOf(call);
  const record: Record<string, unknown> = {
    eventVersion: '1.09',
    userIdentity: userIdentity(call),
    eventTime: new Date(call.time).toISOString().slice(0, 19) + 'Z',
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: call.region,
    sourceIPAddress: call.sourceIp,
    userAgent: call.userAgent,
    ...(call.errorCode ? { errorCode: call.errorCode, errorMessage: call.errorMessage ?? '' } : {}),
    requestParameters: element(call.requestParameters),
    responseElements: call.errorCode ? null : element(call.responseElements),
    requestID: call.requestId,
    eventID: eventId,
    readOnly: call.readOnly,
    ...(resource ? { resources: [{ accountId: resource.accountId, type: resource.type, ARN: resource.arn }] } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: call.recipientAccountId ?? call.principal.account,
    eventCategory: 'Management',
  };
  return {
    eventId,
    eventTime: call.time,
    eventName: call.eventName,
    eventSource: call.eventSource,
    username: call.principal.anonymous ? null : (call.principal.userName ?? (call.principal.arn.endsWith(':root') ? 'root' : null)),
    accessKeyId: call.principal.accessKeyId ?? null,
    readOnly: call.readOnly,
    resourceType: resource?.type ?? null,
    resourceName: resource?.name ?? null,
    record: serialize(record),
  };
}

/** The record as JSON; oversized parameters or responses are left out, as CloudTrail omits them. */
function serialize(record: Record<string, unknown>): string {
  const text = JSON.stringify(record);
  if (text.length <= MAX_ELEMENT_CHARS) return text;
  const big = (v: unknown) => v !== null && JSON.stringify(v).length > MAX_ELEMENT_CHARS / 2;
  return JSON.stringify({
    ...record,
    requestParameters: big(record.requestParameters) ? OMITTED : record.requestParameters,
    responseElements: big(record.responseElements) ? OMITTED : record.responseElements,
  });
}
