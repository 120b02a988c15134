import { requestTagContext, tagKeysContext, type AuthzContext } from '../../iam/identity.js';
import { DEFAULT_EVENT_BUS, MAX_TAGS_PER_RESOURCE, type EventBridge } from '../../domain/eventbridge/eventbridge.js';
import type { PutEvent } from '../../domain/eventbridge/custom-events.js';
import { compilePattern, InvalidPatternError } from '../../domain/eventbridge/pattern.js';
import type { ApiDestinationRow, ConnectionRow, RuleRow } from '../../store/meta/eventbridge-store.js';
import {
  API_DESTINATION_ARN,
  CONNECTION_ARN,
  eventBus,
  EventsError,
  name,
  NAME,
  optionalBoolean,
  optionalInteger,
  optionalNamePrefix,
  optionalString,
  page,
  requiredList,
  requiredObject,
  requiredString,
  tagKeys,
  tagList,
  type Input,
} from './validate.js';

export interface EventsContext {
  accountId: string;
  region: string;
  eventbridge: EventBridge;
  /** Throws AccessDeniedException unless the caller may do `events:<action>` (or another service's `prefix:action`) on `resource`; `context` adds the request's own condition keys (its tags). */
  authorize(action: string, resource: string, context?: AuthzContext): Promise<void>;
}

type Operation = (input: Input, ctx: EventsContext) => Promise<Record<string, unknown>>;

const HTTP_METHODS = ['POST', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'] as const;
const AUTH_TYPES = ['BASIC', 'OAUTH_CLIENT_CREDENTIALS', 'API_KEY'] as const;
const RULE_STATES = ['ENABLED', 'DISABLED'] as const;
const CONNECTION_STATES = ['CREATING', 'UPDATING', 'DELETING', 'AUTHORIZED', 'DEAUTHORIZED', 'AUTHORIZING', 'DEAUTHORIZING'] as const;
const ENDPOINT = /^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]+$/;

const seconds = (ms: number) => ms / 1000;
/** EventBridge's limit on a PutEvents request's entries (256 KB). */
const MAX_PUT_EVENTS_BYTES = 256 * 1024;
const busArn = (ctx: EventsContext) => `arn:aws:events:${ctx.region}:${ctx.accountId}:event-bus/${DEFAULT_EVENT_BUS}`;

/** One PutEvents entry as an event to put, or the entry's error as EventBridge reports it. */
function putEventEntry(entry: unknown, ctx: EventsContext): PutEvent | { ErrorCode: string; ErrorMessage: string } {
  const invalid = (field: string, reason: string) => ({ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}` });
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return invalid('Entries', 'Each entry must be an object.');
  const e = entry as Input;
  for (const field of ['Source', 'DetailType', 'Detail']) {
    if (typeof e[field] !== 'string' || e[field] === '') return invalid(field, `${field} is a required argument.`);
  }
  const source = e.Source as string;
  const detailType = e.DetailType as string;
  if (source.length > 256) return invalid('Source', 'Source is longer than 256 characters.');
  if (detailType.length > 128) return invalid('DetailType', 'DetailType is longer than 128 characters.');
  if (source.startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const resources = e.Resources ?? [];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string' || r.length > 2048)) return invalid('Resources', 'Resources must be a list of ARNs.');
  if (e.Time !== undefined && (typeof e.Time !== 'number' || !Number.isFinite(e.Time))) return invalid('Time', 'Time must be a timestamp.');
  if (e.TraceHeader !== undefined && (typeof e.TraceHeader !== 'string' || e.TraceHeader.length > 500)) return invalid('TraceHeader', 'TraceHeader is longer than 500 characters.');
  try {
    eventBus(e, ctx.region, ctx.accountId);
  } catch (err) {
    if (err instanceof EventsError) return { ErrorCode: err.type, ErrorMessage: err.message };
    throw err;
  }
  return { source, detailType, detail: detail as Record<string, unknown>, resources: resources as string[], ...(e.Time !== undefined ? { time: Math.round((e.Time as number) * 1000) } : {}) };
}
const resource = (ctx: EventsContext, kind: string, id: string) => `arn:aws:events:${ctx.region}:${ctx.accountId}:${kind}/${id}`;

function connectionSummary(c: ConnectionRow): Record<string, unknown> {
  return {
    ConnectionArn: c.arn,
    Name: c.name,
    ConnectionState: 'AUTHORIZED',
    AuthorizationType: c.authorizationType,
    CreationTime: seconds(c.createdAt),
    LastModifiedTime: seconds(c.updatedAt),
    LastAuthorizedTime: seconds(c.updatedAt),
  };
}

/** The auth parameters without their secrets, as DescribeConnection shows them. */
function publicAuth(c: ConnectionRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const apiKey = c.auth.ApiKeyAuthParameters as { ApiKeyName?: string } | undefined;
  const basic = c.auth.BasicAuthParameters as { Username?: string } | undefined;
  if (apiKey) out.ApiKeyAuthParameters = { ApiKeyName: apiKey.ApiKeyName };
  if (basic) out.BasicAuthParameters = { Username: basic.Username };
  const invocation = c.auth.InvocationHttpParameters as Record<string, Array<{ Key: string; Value: string; IsValueSecret?: boolean }>> | undefined;
  if (invocation) {
    out.InvocationHttpParameters = Object.fromEntries(
      Object.entries(invocation).map(([k, list]) => [k, list.map((p) => (p.IsValueSecret ? { Key: p.Key, IsValueSecret: true } : p))]),
    );
  }
  return out;
}

function destinationShape(d: ApiDestinationRow): Record<string, unknown> {
  return {
    ApiDestinationArn: d.arn,
    Name: d.name,
    ApiDestinationState: 'ACTIVE',
    ConnectionArn: d.connectionArn,
    InvocationEndpoint: d.endpoint,
    HttpMethod: d.httpMethod,
    InvocationRateLimitPerSecond: d.rateLimit,
    CreationTime: seconds(d.createdAt),
    LastModifiedTime: seconds(d.updatedAt),
  };
}

function ruleShape(r: RuleRow): Record<string, unknown> {
  return {
    Name: r.name,
    Arn: r.arn,
    EventPattern: r.eventPattern,
    State: r.state,
    ...(r.description === null ? {} : { Description: r.description }),
    ...(r.roleArn === null ? {} : { RoleArn: r.roleArn }),
    EventBusName: DEFAULT_EVENT_BUS,
  };
}

function checkTarget(t: unknown, index: number): Record<string, unknown> {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new EventsError('SerializationException', `Expected an object for member 'Targets.${index + 1}'`);
  const target = t as Input;
  requiredString(target, 'Id', { min: 1, max: 64, pattern: TARGET_ID });
  requiredString(target, 'Arn', { min: 1, max: 1600 });
  optionalString(target, 'RoleArn', { min: 1, max: 1600 });
  optionalString(target, 'Input', { max: 8192 });
  optionalString(target, 'InputPath', { max: 256 });
  const retry = target.RetryPolicy as Input | undefined;
  if (retry !== undefined) {
    optionalInteger(retry, 'MaximumRetryAttempts', 0, 185);
    optionalInteger(retry, 'MaximumEventAgeInSeconds', 60, 86_400);
  }
  return target;
}

export const EVENTS_OPERATIONS: Record<string, Operation> = {
  async CreateConnection(input, ctx) {
    const n = name(input);
    const description = optionalString(input, 'Description', { max: 512 });
    const authorizationType = requiredString(input, 'AuthorizationType', { values: AUTH_TYPES }) as (typeof AUTH_TYPES)[number];
    const authParameters = requiredObject(input, 'AuthParameters');
    await ctx.authorize('CreateConnection', resource(ctx, 'connection', n));
    const c = await ctx.eventbridge.createConnection(ctx.accountId, { name: n, description, authorizationType, authParameters });
    return { ConnectionArn: c.arn, ConnectionState: 'AUTHORIZED', CreationTime: seconds(c.createdAt), LastModifiedTime: seconds(c.updatedAt) };
  },
  async UpdateConnection(input, ctx) {
    const n = name(input);
    const description = optionalString(input, 'Description', { max: 512 });
    const authorizationType = optionalString(input, 'AuthorizationType', { values: AUTH_TYPES }) as (typeof AUTH_TYPES)[number] | undefined;
    const authParameters = input.AuthParameters === undefined ? undefined : requiredObject(input, 'AuthParameters');
    await ctx.authorize('UpdateConnection', resource(ctx, 'connection', n));
    const c = await ctx.eventbridge.updateConnection(ctx.accountId, n, { description, authorizationType, authParameters });
    return { ConnectionArn: c.arn, ConnectionState: 'AUTHORIZED', CreationTime: seconds(c.createdAt), LastModifiedTime: seconds(c.updatedAt), LastAuthorizedTime: seconds(c.updatedAt) };
  },
  async DescribeConnection(input, ctx) {
    const n = name(input);
    await ctx.authorize('DescribeConnection', resource(ctx, 'connection', n));
    const c = await ctx.eventbridge.connection(ctx.accountId, n);
    return { ...connectionSummary(c), ...(c.description === null ? {} : { Description: c.description }), AuthParameters: publicAuth(c) };
  },
  async ListConnections(input, ctx) {
    const prefix = optionalNamePrefix(input);
    const state = optionalString(input, 'ConnectionState', { values: CONNECTION_STATES });
    await ctx.authorize('ListConnections', '*');
    const all = (await ctx.eventbridge.listConnections(ctx.accountId, prefix)).filter(() => state === undefined || state === 'AUTHORIZED');
    const { items, nextToken } = page(all, input);
    return { Connections: items.map(connectionSummary), ...(nextToken ? { NextToken: nextToken } : {}) };
  },
  async DeleteConnection(input, ctx) {
    const n = name(input);
    await ctx.authorize('DeleteConnection', resource(ctx, 'connection', n));
    const c = await ctx.eventbridge.deleteConnection(ctx.accountId, n);
    return { ConnectionArn: c.arn, ConnectionState: 'DELETING', CreationTime: seconds(c.createdAt), LastModifiedTime: seconds(c.updatedAt), LastAuthorizedTime: seconds(c.updatedAt) };
  },

  async CreateApiDestination(input, ctx) {
    const n = name(input);
    const description = optionalString(input, 'Description', { max: 512 });
    const connectionArn = requiredString(input, 'ConnectionArn', { min: 1, max: 1600, pattern: CONNECTION_ARN });
    const endpoint = requiredString(input, 'InvocationEndpoint', { min: 1, max: 2048, pattern: ENDPOINT });
    const httpMethod = requiredString(input, 'HttpMethod', { values: HTTP_METHODS });
    const rateLimit = optionalInteger(input, 'InvocationRateLimitPerSecond', 1, 300);
    await ctx.authorize('CreateApiDestination', resource(ctx, 'api-destination', n));
    const d = await ctx.eventbridge.createDestination(ctx.accountId, { name: n, description, connectionArn, endpoint, httpMethod, rateLimit });
    return { ApiDestinationArn: d.arn, ApiDestinationState: 'ACTIVE', CreationTime: seconds(d.createdAt), LastModifiedTime: seconds(d.updatedAt) };
  },
  async UpdateApiDestination(input, ctx) {
    const n = name(input);
    const description = optionalString(input, 'Description', { max: 512 });
    const connectionArn = optionalString(input, 'ConnectionArn', { min: 1, max: 1600, pattern: CONNECTION_ARN });
    const endpoint = optionalString(input, 'InvocationEndpoint', { min: 1, max: 2048, pattern: ENDPOINT });
    const httpMethod = optionalString(input, 'HttpMethod', { values: HTTP_METHODS });
    const rateLimit = optionalInteger(input, 'InvocationRateLimitPerSecond', 1, 300);
    await ctx.authorize('UpdateApiDestination', resource(ctx, 'api-destination', n));
    const d = await ctx.eventbridge.updateDestination(ctx.accountId, n, { description, connectionArn, endpoint, httpMethod, rateLimit });
    return { ApiDestinationArn: d.arn, ApiDestinationState: 'ACTIVE', CreationTime: seconds(d.createdAt), LastModifiedTime: seconds(d.updatedAt) };
  },
  async DescribeApiDestination(input, ctx) {
    const n = name(input);
    await ctx.authorize('DescribeApiDestination', resource(ctx, 'api-destination', n));
    const d = await ctx.eventbridge.destination(ctx.accountId, n);
    return { ...destinationShape(d), ...(d.description === null ? {} : { Description: d.description }) };
  },
  async ListApiDestinations(input, ctx) {
    const prefix = optionalNamePrefix(input);
    const connectionArn = optionalString(input, 'ConnectionArn', { min: 1, max: 1600, pattern: CONNECTION_ARN });
    await ctx.authorize('ListApiDestinations', '*');
    const { items, nextToken } = page(await ctx.eventbridge.listDestinations(ctx.accountId, prefix, connectionArn), input);
    return { ApiDestinations: items.map(destinationShape), ...(nextToken ? { NextToken: nextToken } : {}) };
  },
  async DeleteApiDestination(input, ctx) {
    const n = name(input);
    await ctx.authorize('DeleteApiDestination', resource(ctx, 'api-destination', n));
    await ctx.eventbridge.deleteDestination(ctx.accountId, n);
    return {};
  },

  async PutRule(input, ctx) {
    const n = name(input);
    eventBus(input, ctx.region, ctx.accountId);
    if (input.ScheduleExpression !== undefined) {
      throw new EventsError('ValidationException', 'ScheduleExpression is not supported by this endpoint; rules match events with an EventPattern.');
    }
    const tags = input.Tags === undefined || input.Tags === null ? undefined : tagList(input, 'Tags', MAX_TAGS_PER_RESOURCE);
    const eventPattern = optionalString(input, 'EventPattern', { max: 4096 });
    if (eventPattern === undefined) throw new EventsError('ValidationException', 'Parameter(s) EventPattern must be specified.');
    const state = optionalString(input, 'State', { values: RULE_STATES }) as RuleRow['state'] | undefined;
    const description = optionalString(input, 'Description', { max: 512 });
    const roleArn = optionalString(input, 'RoleArn', { min: 1, max: 1600 });
    const tagContext = requestTagContext((tags ?? []).map((t) => ({ Key: t.key, Value: t.value })));
    await ctx.authorize('PutRule', ctx.eventbridge.ruleArn(ctx.accountId, n), tagContext);
    // Creating a rule with tags takes events:TagResource too, as on EventBridge.
    if (tagContext) await ctx.authorize('TagResource', ctx.eventbridge.ruleArn(ctx.accountId, n), tagContext);
    const rule = await ctx.eventbridge.putRule(ctx.accountId, { name: n, eventPattern, state, description, roleArn, tags });
    return { RuleArn: rule.arn };
  },
  async DescribeRule(input, ctx) {
    const n = name(input);
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('DescribeRule', ctx.eventbridge.ruleArn(ctx.accountId, n));
    return ruleShape(await ctx.eventbridge.rule(ctx.accountId, n));
  },
  async ListRules(input, ctx) {
    const prefix = optionalNamePrefix(input);
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('ListRules', '*');
    const { items, nextToken } = page(await ctx.eventbridge.listRules(ctx.accountId, prefix), input);
    return { Rules: items.map(ruleShape), ...(nextToken ? { NextToken: nextToken } : {}) };
  },
  async EnableRule(input, ctx) {
    const n = name(input);
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('EnableRule', ctx.eventbridge.ruleArn(ctx.accountId, n));
    await ctx.eventbridge.setRuleState(ctx.accountId, n, 'ENABLED');
    return {};
  },
  async DisableRule(input, ctx) {
    const n = name(input);
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('DisableRule', ctx.eventbridge.ruleArn(ctx.accountId, n));
    await ctx.eventbridge.setRuleState(ctx.accountId, n, 'DISABLED');
    return {};
  },
  async DeleteRule(input, ctx) {
    const n = name(input);
    eventBus(input, ctx.region, ctx.accountId);
    const force = optionalBoolean(input, 'Force');
    await ctx.authorize('DeleteRule', ctx.eventbridge.ruleArn(ctx.accountId, n));
    await ctx.eventbridge.deleteRule(ctx.accountId, n, force);
    return {};
  },

  async ListRuleNamesByTarget(input, ctx) {
    const targetArn = requiredString(input, 'TargetArn', { min: 1, max: 1600 });
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('ListRuleNamesByTarget', '*');
    const names = (await ctx.eventbridge.ruleNamesByTarget(ctx.accountId, targetArn)).map((n) => ({ name: n }));
    const { items, nextToken } = page(names, input);
    return { RuleNames: items.map((r) => r.name), ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  async TagResource(input, ctx) {
    const arn = requiredString(input, 'ResourceARN', { min: 1, max: 1600 });
    const tags = tagList(input, 'Tags', MAX_TAGS_PER_RESOURCE);
    await ctx.authorize('TagResource', arn, requestTagContext(tags.map((t) => ({ Key: t.key, Value: t.value }))));
    await ctx.eventbridge.tagResource(ctx.accountId, arn, tags);
    return {};
  },
  async UntagResource(input, ctx) {
    const arn = requiredString(input, 'ResourceARN', { min: 1, max: 1600 });
    const keys = tagKeys(input, 'TagKeys');
    await ctx.authorize('UntagResource', arn, tagKeysContext(keys));
    await ctx.eventbridge.untagResource(ctx.accountId, arn, keys);
    return {};
  },
  async ListTagsForResource(input, ctx) {
    const arn = requiredString(input, 'ResourceARN', { min: 1, max: 1600 });
    await ctx.authorize('ListTagsForResource', arn);
    return { Tags: (await ctx.eventbridge.tagsOf(ctx.accountId, arn)).map((t) => ({ Key: t.key, Value: t.value })) };
  },

  async PutTargets(input, ctx) {
    const rule = name(input, 'Rule');
    eventBus(input, ctx.region, ctx.accountId);
    const targets = requiredList(input, 'Targets', 1, 100).map(checkTarget);
    await ctx.authorize('PutTargets', ctx.eventbridge.ruleArn(ctx.accountId, rule));
    // Handing EventBridge a role to assume is passing it, as on AWS.
    for (const roleArn of new Set(targets.map((t) => t.RoleArn).filter((r): r is string => typeof r === 'string'))) await ctx.authorize('iam:PassRole', roleArn);
    const failed = await ctx.eventbridge.putTargets(ctx.accountId, rule, targets);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  },
  async ListTargetsByRule(input, ctx) {
    const rule = name(input, 'Rule');
    eventBus(input, ctx.region, ctx.accountId);
    await ctx.authorize('ListTargetsByRule', ctx.eventbridge.ruleArn(ctx.accountId, rule));
    const targets = (await ctx.eventbridge.listTargets(ctx.accountId, rule)).map((t) => ({ name: t.targetId, target: t.target }));
    const { items, nextToken } = page(targets, input);
    return { Targets: items.map((t) => t.target), ...(nextToken ? { NextToken: nextToken } : {}) };
  },
  async RemoveTargets(input, ctx) {
    const rule = name(input, 'Rule');
    eventBus(input, ctx.region, ctx.accountId);
    const ids = requiredList(input, 'Ids', 1, 100).map((id) => requiredString({ Ids: id }, 'Ids', { min: 1, max: 64, pattern: TARGET_ID }));
    optionalBoolean(input, 'Force');
    await ctx.authorize('RemoveTargets', ctx.eventbridge.ruleArn(ctx.accountId, rule));
    await ctx.eventbridge.removeTargets(ctx.accountId, rule, ids);
    return { FailedEntryCount: 0, FailedEntries: [] };
  },

  async PutEvents(input, ctx) {
    const entries = requiredList(input, 'Entries', 1, 10);
    if (input.EndpointId !== undefined) throw new EventsError('ValidationException', 'EndpointId (global endpoints) is not supported by this endpoint.');
    if (Buffer.byteLength(JSON.stringify(entries)) > MAX_PUT_EVENTS_BYTES) {
      throw new EventsError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    await ctx.authorize('PutEvents', busArn(ctx));
    const results: Array<Record<string, unknown>> = [];
    const accepted: Array<{ at: number; event: PutEvent }> = [];
    entries.forEach((entry, at) => {
      const checked = putEventEntry(entry, ctx);
      if ('ErrorCode' in checked) results[at] = checked;
      else accepted.push({ at, event: checked });
    });
    const ids = await ctx.eventbridge.putEvents(ctx.accountId, accepted.map((a) => a.event));
    accepted.forEach((a, i) => (results[a.at] = { EventId: ids[i] }));
    return { FailedEntryCount: entries.length - accepted.length, Entries: results };
  },
  async DescribeEventBus(input, ctx) {
    eventBus({ EventBusName: input.Name }, ctx.region, ctx.accountId);
    await ctx.authorize('DescribeEventBus', busArn(ctx));
    return { Name: DEFAULT_EVENT_BUS, Arn: busArn(ctx) };
  },
  async ListEventBuses(input, ctx) {
    const prefix = optionalNamePrefix(input);
    await ctx.authorize('ListEventBuses', '*');
    const { items, nextToken } = page([{ name: DEFAULT_EVENT_BUS }].filter((b) => b.name.startsWith(prefix ?? '')), input);
    return { EventBuses: items.map(() => ({ Name: DEFAULT_EVENT_BUS, Arn: busArn(ctx) })), ...(nextToken ? { NextToken: nextToken } : {}) };
  },
  // Archives, replays and global endpoints are not offered (see EVENTS_NOT_OFFERED): there are none to list or describe.
  async ListArchives(input, ctx) {
    optionalString(input, 'NamePrefix', { min: 1, max: 48, pattern: NAME });
    optionalString(input, 'EventSourceArn', { min: 1, max: 1600 });
    optionalString(input, 'State', { values: ['ENABLED', 'DISABLED', 'CREATING', 'UPDATING', 'CREATE_FAILED', 'UPDATE_FAILED'] });
    page([], input);
    await ctx.authorize('ListArchives', '*');
    return { Archives: [] };
  },
  async DescribeArchive(input, ctx) {
    const n = requiredString(input, 'ArchiveName', { min: 1, max: 48, pattern: NAME });
    await ctx.authorize('DescribeArchive', resource(ctx, 'archive', n));
    throw new EventsError('ResourceNotFoundException', `Archive ${n} does not exist.`);
  },
  async ListReplays(input, ctx) {
    optionalNamePrefix(input);
    optionalString(input, 'EventSourceArn', { min: 1, max: 1600 });
    optionalString(input, 'State', { values: ['STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'CANCELLED', 'FAILED'] });
    page([], input);
    await ctx.authorize('ListReplays', '*');
    return { Replays: [] };
  },
  async DescribeReplay(input, ctx) {
    const n = requiredString(input, 'ReplayName', { min: 1, max: 64, pattern: NAME });
    await ctx.authorize('DescribeReplay', resource(ctx, 'replay', n));
    throw new EventsError('ResourceNotFoundException', `Replay ${n} does not exist.`);
  },
  async ListEndpoints(input, ctx) {
    optionalNamePrefix(input);
    optionalString(input, 'HomeRegion', { min: 9, max: 20, pattern: /^[-a-z0-9]+$/ });
    optionalInteger(input, 'MaxResults', 1, 100);
    optionalString(input, 'NextToken', { min: 1, max: 2048 });
    await ctx.authorize('ListEndpoints', '*');
    return { Endpoints: [] };
  },
  async DescribeEndpoint(input, ctx) {
    const n = name(input);
    optionalString(input, 'HomeRegion', { min: 9, max: 20, pattern: /^[-a-z0-9]+$/ });
    await ctx.authorize('DescribeEndpoint', resource(ctx, 'endpoint', n));
    throw new EventsError('ResourceNotFoundException', `Endpoint ${n} does not exist.`);
  },

  async TestEventPattern(input, ctx) {
    const patternText = requiredString(input, 'EventPattern', { max: 4096 });
    const eventText = requiredString(input, 'Event');
    await ctx.authorize('TestEventPattern', '*');
    let pattern;
    try {
      pattern = compilePattern(patternText);
    } catch (err) {
      if (err instanceof InvalidPatternError) throw new EventsError('InvalidEventPatternException', err.message);
      throw err;
    }
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch {
      throw new EventsError('ValidationException', 'Parameter Event is not valid.');
    }
    const required = ['id', 'account', 'source', 'time', 'region', 'detail-type'];
    if (typeof event !== 'object' || event === null || Array.isArray(event) || !required.every((k) => k in (event as object))) {
      throw new EventsError('ValidationException', 'Parameter Event is not valid.');
    }
    return { Result: pattern.matches(event) };
  },
};

const ARCHIVES = 'Event archives and replays are not available on this endpoint.';
const ENDPOINTS = 'Global endpoints are not available on this endpoint.';
const BUSES = 'Event buses other than the default bus are not available on this endpoint.';
const PARTNERS = 'Partner event sources are not available on this endpoint.';
const PERMISSIONS = 'Event bus resource policies are not available on this endpoint; grant access with IAM policies.';

/**
 * EventBridge operations berth does not offer, with why: answered with EventBridge's
 * OperationDisabledException rather than as operations that do not exist.
 */
export const EVENTS_NOT_OFFERED: Record<string, string> = {
  CreateArchive: ARCHIVES,
  UpdateArchive: ARCHIVES,
  DeleteArchive: ARCHIVES,
  StartReplay: ARCHIVES,
  CancelReplay: ARCHIVES,
  CreateEndpoint: ENDPOINTS,
  UpdateEndpoint: ENDPOINTS,
  DeleteEndpoint: ENDPOINTS,
  CreateEventBus: BUSES,
  UpdateEventBus: BUSES,
  DeleteEventBus: BUSES,
  ActivateEventSource: PARTNERS,
  DeactivateEventSource: PARTNERS,
  DescribeEventSource: PARTNERS,
  ListEventSources: PARTNERS,
  CreatePartnerEventSource: PARTNERS,
  DeletePartnerEventSource: PARTNERS,
  DescribePartnerEventSource: PARTNERS,
  ListPartnerEventSources: PARTNERS,
  ListPartnerEventSourceAccounts: PARTNERS,
  PutPartnerEvents: PARTNERS,
  PutPermission: PERMISSIONS,
  RemovePermission: PERMISSIONS,
  DeauthorizeConnection: 'Deauthorizing a connection is not available on this endpoint; update its credentials or delete it.',
};
