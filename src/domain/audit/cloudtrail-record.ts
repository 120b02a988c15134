import { randomUUID } from 'node:crypto';
import type { AuditCallColumns, AuditRow } from '../../store/meta/audit-store.js';

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

/** Who made the call, as stored beside the lookup columns. */
function username(p: AuditedPrincipal): string | null {
  return p.anonymous ? null : (p.userName ?? (p.arn.endsWith(':root') ? 'root' : null));
}

function json(value: Record<string, unknown> | null | undefined): string | null {
  return value ? JSON.stringify(redact(value)) : null;
}

/**
 * The row that stores a call without its record: the lookup columns and the call's own facts
 * (secrets already hidden), from which `withRecord` builds the same record as `auditRow` when it is
 * read. Much less work on the request path than building and storing the record.
 */
export function auditCallRow(call: AuditedCall, eventId: string): AuditRow {
  const resource = resourceOf(call);
  const p = call.principal;
  const errorCode = call.errorCode || null;
  const columns: AuditCallColumns = {
    requestId: call.requestId,
    principalArn: p.anonymous ? null : p.arn,
    principalAccount: p.anonymous ? null : p.account,
    principalId: call.principalId ?? null,
    sourceIp: call.sourceIp,
    userAgent: call.userAgent,
    requestParameters: json(call.requestParameters),
    responseElements: errorCode ? null : json(call.responseElements),
    errorCode,
    errorMessage: call.errorMessage ?? null,
    recipientAccountId: call.recipientAccountId ?? p.account,
    region: call.region,
  };
  return {
    eventId,
    eventTime: call.time,
    eventName: call.eventName,
    eventSource: call.eventSource,
    username: username(p),
    accessKeyId: p.accessKeyId ?? null,
    readOnly: call.readOnly,
    resourceType: resource?.type ?? null,
    resourceName: resource?.name ?? null,
    record: '',
    call: columns,
  };
}

/** The call a row without a record was made from, as far as its record tells. */
function storedCall(row: AuditRow, c: AuditCallColumns): AuditedCall {
  const anonymous = c.principalArn === null;
  return {
    requestId: c.requestId,
    time: row.eventTime,
    eventSource: row.eventSource,
    eventName: row.eventName,
    readOnly: row.readOnly,
    principal: {
      arn: c.principalArn ?? '*',
      account: c.principalAccount ?? c.recipientAccountId,
      userName: row.username ?? undefined,
      accessKeyId: row.accessKeyId ?? undefined,
      anonymous,
    },
    principalId: c.principalId ?? undefined,
    sourceIp: c.sourceIp,
    userAgent: c.userAgent,
    requestParameters: c.requestParameters === null ? null : (JSON.parse(c.requestParameters) as Record<string, unknown>),
    responseElements: c.responseElements === null ? null : (JSON.parse(c.responseElements) as Record<string, unknown>),
    errorCode: c.errorCode ?? undefined,
    errorMessage: c.errorMessage ?? undefined,
    recipientAccountId: c.recipientAccountId,
    region: c.region,
  };
}

/** The row with its CloudTrail record: built from its call columns when it was stored without one. */
export function withRecord(row: AuditRow): AuditRow {
  if (!row.call) return row;
  const { call, ...rest } = row;
  return { ...rest, record: auditRow(storedCall(row, call), row.eventId).record };
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
    username: username(call.principal),
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
