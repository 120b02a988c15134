import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../../store/meta/metadata-store.js';
import type { ApiDestinationRow, ConnectionRow, RuleRow, TagRow, TargetRow } from '../../store/meta/eventbridge-store.js';
import type { ServiceRoles } from '../roles/service-roles.js';
import { PUT_EVENT, putEventDetail, type PutEvent } from './custom-events.js';
import { compilePattern, InvalidPatternError } from './pattern.js';

/** The service principal EventBridge acts as when it assumes a target's role. */
export const EVENTS_SERVICE = 'events.amazonaws.com';

export type EventBridgeErrorKind = 'NotFound' | 'AlreadyExists' | 'Invalid' | 'InvalidPattern' | 'LimitExceeded';

/** What can go wrong with rules, targets, connections and destinations, in EventBridge's words. */
export class EventBridgeError extends Error {
  constructor(
    readonly kind: EventBridgeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_EVENT_BUS = 'default';
/** EventBridge's quota of targets per rule. */
export const MAX_TARGETS_PER_RULE = 5;
export const DEFAULT_RATE_LIMIT = 300;
/** EventBridge's quota of tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

export interface ConnectionInput {
  name: string;
  description?: string;
  authorizationType: 'BASIC' | 'API_KEY' | 'OAUTH_CLIENT_CREDENTIALS';
  authParameters: Record<string, unknown>;
}

export interface DestinationInput {
  name: string;
  description?: string;
  connectionArn: string;
  endpoint: string;
  httpMethod: string;
  rateLimit?: number;
}

export interface RuleInput {
  name: string;
  eventPattern: string;
  state?: RuleRow['state'];
  description?: string;
  roleArn?: string;
  /** Given to a rule when it is created; a PutRule that replaces a rule leaves its tags as they are, as on EventBridge. */
  tags?: TagRow[];
}

export interface TargetFailure {
  TargetId: string;
  ErrorCode: string;
  ErrorMessage: string;
}

/** Target members berth honours; a target with any other member is refused, never stored and ignored. */
const SUPPORTED_TARGET_MEMBERS = new Set(['Id', 'Arn', 'RoleArn', 'Input', 'InputPath', 'HttpParameters', 'RetryPolicy']);
const SIMPLE_JSON_PATH = /^\$(\.[A-Za-z0-9_-]+)*$/;

/**
 * EventBridge on the default event bus of each account: rules with event patterns, targets that
 * deliver to API destinations, and the connections those authenticate with.
 */
export class EventBridge {
  constructor(
    private readonly meta: MetadataStore,
    readonly region: string,
    private readonly roles: ServiceRoles,
  ) {}

  // ---- connections ----------------------------------------------------------------------------
  async createConnection(accountId: string, input: ConnectionInput): Promise<ConnectionRow> {
    if (input.authorizationType === 'OAUTH_CLIENT_CREDENTIALS') {
      throw new EventBridgeError('Invalid', 'OAUTH_CLIENT_CREDENTIALS connections are not supported by this endpoint; use API_KEY or BASIC.');
    }
    checkAuthParameters(input.authorizationType, input.authParameters);
    const now = Date.now();
    const row: ConnectionRow = {
      accountId,
      name: input.name,
      arn: `arn:aws:events:${this.region}:${accountId}:connection/${input.name}/${randomUUID()}`,
      description: input.description ?? null,
      authorizationType: input.authorizationType,
      auth: input.authParameters,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.meta.eventbridge.insertConnection(row))) throw new EventBridgeError('AlreadyExists', `Connection ${input.name} already exists.`);
    return row;
  }

  /**
   * Changes a connection: what the update names replaces what was there (an API key value alone
   * rotates the key); a new authorization type needs its parameters whole. Later deliveries use it.
   */
  async updateConnection(accountId: string, name: string, patch: Partial<Omit<ConnectionInput, 'name'>>): Promise<ConnectionRow> {
    const current = await this.connection(accountId, name);
    const authorizationType = patch.authorizationType ?? current.authorizationType;
    if (authorizationType !== 'BASIC' && authorizationType !== 'API_KEY') {
      throw new EventBridgeError('Invalid', 'OAUTH_CLIENT_CREDENTIALS connections are not supported by this endpoint; use API_KEY or BASIC.');
    }
    const auth: Record<string, unknown> = authorizationType === current.authorizationType ? { ...current.auth } : {};
    if (authorizationType !== current.authorizationType && current.auth.InvocationHttpParameters !== undefined) auth.InvocationHttpParameters = current.auth.InvocationHttpParameters;
    for (const [member, value] of Object.entries(patch.authParameters ?? {})) {
      const before = auth[member];
      const merged = member !== 'InvocationHttpParameters' && isObject(before) && isObject(value) ? { ...before, ...value } : value;
      auth[member] = merged;
    }
    checkAuthParameters(authorizationType, auth);
    const row: ConnectionRow = { ...current, authorizationType, auth, description: patch.description ?? current.description, updatedAt: Date.now() };
    if (!(await this.meta.eventbridge.updateConnection(row))) await this.connection(accountId, name);
    return row;
  }

  async connection(accountId: string, name: string): Promise<ConnectionRow> {
    const found = await this.meta.eventbridge.getConnection(accountId, name);
    if (!found) throw new EventBridgeError('NotFound', `Failed to describe the connection(s). Connection '${name}' does not exist.`);
    return found;
  }

  listConnections(accountId: string, namePrefix?: string): Promise<ConnectionRow[]> {
    return this.meta.eventbridge.listConnections(accountId, namePrefix);
  }

  async deleteConnection(accountId: string, name: string): Promise<ConnectionRow> {
    const found = await this.connection(accountId, name);
    await this.meta.eventbridge.deleteConnection(accountId, name);
    return found;
  }

  // ---- API destinations -----------------------------------------------------------------------
  async createDestination(accountId: string, input: DestinationInput): Promise<ApiDestinationRow> {
    const connection = await this.connectionByArn(accountId, input.connectionArn);
    if (!connection) throw new EventBridgeError('NotFound', `Connection '${input.connectionArn}' does not exist.`);
    if (!/^https?:\/\//i.test(input.endpoint)) throw new EventBridgeError('Invalid', 'InvocationEndpoint must be an http or https URL.');
    const now = Date.now();
    const row: ApiDestinationRow = {
      accountId,
      name: input.name,
      arn: `arn:aws:events:${this.region}:${accountId}:api-destination/${input.name}/${randomUUID()}`,
      description: input.description ?? null,
      connectionArn: connection.arn,
      endpoint: input.endpoint,
      httpMethod: input.httpMethod,
      rateLimit: input.rateLimit ?? DEFAULT_RATE_LIMIT,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.meta.eventbridge.insertDestination(row))) throw new EventBridgeError('AlreadyExists', `An api-destination '${input.name}' already exists.`);
    return row;
  }

  async updateDestination(accountId: string, name: string, patch: Partial<Omit<DestinationInput, 'name'>>): Promise<ApiDestinationRow> {
    const current = await this.destination(accountId, name);
    let connectionArn = current.connectionArn;
    if (patch.connectionArn !== undefined) {
      const connection = await this.connectionByArn(accountId, patch.connectionArn);
      if (!connection) throw new EventBridgeError('NotFound', `Connection '${patch.connectionArn}' does not exist.`);
      connectionArn = connection.arn;
    }
    if (patch.endpoint !== undefined && !/^https?:\/\//i.test(patch.endpoint)) throw new EventBridgeError('Invalid', 'InvocationEndpoint must be an http or https URL.');
    const row: ApiDestinationRow = {
      ...current,
      description: patch.description ?? current.description,
      connectionArn,
      endpoint: patch.endpoint ?? current.endpoint,
      httpMethod: patch.httpMethod ?? current.httpMethod,
      rateLimit: patch.rateLimit ?? current.rateLimit,
      updatedAt: Date.now(),
    };
    if (!(await this.meta.eventbridge.updateDestination(row))) await this.destination(accountId, name);
    return row;
  }

  async destination(accountId: string, name: string): Promise<ApiDestinationRow> {
    const found = await this.meta.eventbridge.getDestination(accountId, name);
    if (!found) throw new EventBridgeError('NotFound', `Failed to describe the api-destination(s). An api-destination '${name}' does not exist.`);
    return found;
  }

  listDestinations(accountId: string, namePrefix?: string, connectionArn?: string): Promise<ApiDestinationRow[]> {
    return this.meta.eventbridge.listDestinations(accountId, namePrefix).then((all) => all.filter((d) => !connectionArn || d.connectionArn === connectionArn));
  }

  async deleteDestination(accountId: string, name: string): Promise<void> {
    await this.destination(accountId, name);
    await this.meta.eventbridge.deleteDestination(accountId, name);
  }

  async destinationByArn(accountId: string, arn: string): Promise<ApiDestinationRow | undefined> {
    const name = nameInArn(arn, 'api-destination');
    const found = name === undefined ? undefined : await this.meta.eventbridge.getDestination(accountId, name);
    return found?.arn === arn ? found : undefined;
  }

  async connectionByArn(accountId: string, arn: string): Promise<ConnectionRow | undefined> {
    const name = nameInArn(arn, 'connection');
    const found = name === undefined ? undefined : await this.meta.eventbridge.getConnection(accountId, name);
    return found?.arn === arn ? found : undefined;
  }

  // ---- events put by callers ------------------------------------------------------------------
  /**
   * Puts events on the account's default bus: each goes to the outbox, and from there to the
   * targets of every enabled rule whose pattern matches it, as ECR's own events do. Returns their ids.
   */
  async putEvents(accountId: string, events: PutEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const stored = await this.meta.transaction(async (tx) => {
      const out = [];
      for (const event of events) out.push(await tx.events.append({ type: PUT_EVENT, registryId: accountId, repositoryName: '', detail: putEventDetail(event) }));
      return out;
    });
    return stored.map((e) => e.eventId);
  }

  // ---- rules ----------------------------------------------------------------------------------
  async putRule(accountId: string, input: RuleInput): Promise<RuleRow> {
    checkPattern(input.eventPattern);
    const existing = await this.meta.eventbridge.getRule(accountId, input.name);
    const row: RuleRow = {
      accountId,
      name: input.name,
      arn: this.ruleArn(accountId, input.name),
      eventPattern: input.eventPattern,
      state: input.state ?? 'ENABLED',
      description: input.description ?? null,
      roleArn: input.roleArn ?? null,
      createdAt: existing?.createdAt ?? Date.now(),
    };
    await this.meta.eventbridge.putRule(row);
    if (!existing && input.tags && input.tags.length > 0) await this.tagResource(accountId, row.arn, input.tags);
    return row;
  }

  async rule(accountId: string, name: string): Promise<RuleRow> {
    const found = await this.meta.eventbridge.getRule(accountId, name);
    if (!found) throw new EventBridgeError('NotFound', `Rule ${name} does not exist on EventBus ${DEFAULT_EVENT_BUS}.`);
    return found;
  }

  listRules(accountId: string, namePrefix?: string): Promise<RuleRow[]> {
    return this.meta.eventbridge.listRules(accountId, namePrefix);
  }

  async setRuleState(accountId: string, name: string, state: RuleRow['state']): Promise<void> {
    if (!(await this.meta.eventbridge.setRuleState(accountId, name, state))) await this.rule(accountId, name);
  }

  /** Refused while the rule has targets, unless `force`, as EventBridge does. */
  async deleteRule(accountId: string, name: string, force = false): Promise<void> {
    const rule = await this.meta.eventbridge.getRule(accountId, name);
    if (!rule) return;
    if (!force && (await this.meta.eventbridge.listTargets(accountId, name)).length > 0) {
      throw new EventBridgeError('Invalid', "Rule can't be deleted since it has targets.");
    }
    await this.meta.eventbridge.deleteRule(accountId, name);
  }

  ruleArn(accountId: string, name: string): string {
    return `arn:aws:events:${this.region}:${accountId}:rule/${name}`;
  }

  busArn(accountId: string): string {
    return `arn:aws:events:${this.region}:${accountId}:event-bus/${DEFAULT_EVENT_BUS}`;
  }

  /** Names of the account's rules with a target that delivers to `targetArn`. */
  ruleNamesByTarget(accountId: string, targetArn: string): Promise<string[]> {
    return this.meta.eventbridge.ruleNamesWithTarget(accountId, targetArn);
  }

  // ---- tags -----------------------------------------------------------------------------------
  /** Tags a rule of the account's default bus, or the bus itself: the resources EventBridge tags. */
  async tagResource(accountId: string, arn: string, tags: TagRow[]): Promise<void> {
    await this.taggable(accountId, arn);
    await this.meta.transaction(async (tx) => {
      const keys = new Set([...(await tx.eventbridge.tags(accountId, arn)).map((t) => t.key), ...tags.map((t) => t.key)]);
      if (keys.size > MAX_TAGS_PER_RESOURCE) throw new EventBridgeError('LimitExceeded', `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
      await tx.eventbridge.setTags(accountId, arn, tags);
    }, `eventbridge-tags ${accountId} ${arn}`);
  }

  async untagResource(accountId: string, arn: string, keys: string[]): Promise<void> {
    await this.taggable(accountId, arn);
    await this.meta.eventbridge.removeTags(accountId, arn, keys);
  }

  async tagsOf(accountId: string, arn: string): Promise<TagRow[]> {
    await this.taggable(accountId, arn);
    return this.meta.eventbridge.tags(accountId, arn);
  }

  /** A taggable resource's tags by ARN alone (for policy conditions); undefined when there is no such resource here. */
  async resourceTags(arn: string): Promise<TagRow[] | undefined> {
    const accountId = /^arn:aws[a-z-]*:events:[^:]*:(\d{12}):/.exec(arn)?.[1];
    if (!accountId) return undefined;
    return this.tagsOf(accountId, arn).catch((err: unknown) => {
      if (err instanceof EventBridgeError) return undefined;
      throw err;
    });
  }

  private async taggable(accountId: string, arn: string): Promise<void> {
    if (arn === this.busArn(accountId)) return;
    const rule = /^arn:aws:events:([^:]*):(\d{12}):rule\/([.\-_A-Za-z0-9]+)$/.exec(arn);
    if (rule && rule[1] === this.region && rule[2] === accountId) {
      await this.rule(accountId, rule[3]!);
      return;
    }
    throw new EventBridgeError('NotFound', `Resource ${arn} does not exist or cannot be tagged; EventBridge tags rules and event buses.`);
  }

  // ---- targets --------------------------------------------------------------------------------
  /** Stores each target berth can deliver; reports the others as failed entries. */
  async putTargets(accountId: string, ruleName: string, targets: Array<Record<string, unknown>>): Promise<TargetFailure[]> {
    await this.rule(accountId, ruleName);
    const current = await this.meta.eventbridge.listTargets(accountId, ruleName);
    const ids = new Set([...current.map((t) => t.targetId), ...targets.map((t) => String(t.Id))]);
    if (ids.size > MAX_TARGETS_PER_RULE) throw new EventBridgeError('LimitExceeded', 'The requested resource exceeds the maximum number allowed.');
    // As EventBridge: invoking an API destination takes a role, and a request lacking one is refused whole.
    for (const target of targets) {
      const arn = String(target.Arn);
      if (nameInArn(arn, 'api-destination') !== undefined && (typeof target.RoleArn !== 'string' || target.RoleArn === '')) {
        throw new EventBridgeError('Invalid', `RoleArn is required for target ${arn}.`);
      }
    }
    const failures: TargetFailure[] = [];
    for (const target of targets) {
      const id = String(target.Id);
      const problem = await this.targetProblem(accountId, target);
      if (problem) {
        failures.push({ TargetId: id, ErrorCode: 'ValidationException', ErrorMessage: problem });
        continue;
      }
      await this.meta.eventbridge.putTarget({ accountId, ruleName, targetId: id, target });
    }
    return failures;
  }

  async listTargets(accountId: string, ruleName: string): Promise<TargetRow[]> {
    await this.rule(accountId, ruleName);
    return this.meta.eventbridge.listTargets(accountId, ruleName);
  }

  async removeTargets(accountId: string, ruleName: string, ids: string[]): Promise<void> {
    await this.rule(accountId, ruleName);
    for (const id of ids) await this.meta.eventbridge.deleteTarget(accountId, ruleName, id);
  }

  /**
   * Why EventBridge may not invoke an API destination for a target, undefined when it may: it
   * assumes the target's role, which must let events.amazonaws.com do events:InvokeApiDestination
   * on the destination.
   */
  async invocationRefusal(target: { Arn: string; RoleArn?: string }, destinationArn: string): Promise<string | undefined> {
    if (!target.RoleArn) return `RoleArn is required for target ${target.Arn}.`;
    const verdict = await this.roles.check(EVENTS_SERVICE, target.RoleArn, [{ action: 'events:InvokeApiDestination', resource: destinationArn }]);
    return verdict.allowed ? undefined : `EventBridge cannot invoke ${destinationArn}: ${verdict.reason}`;
  }

  private async targetProblem(accountId: string, target: Record<string, unknown>): Promise<string | undefined> {
    const unsupported = Object.keys(target).filter((k) => !SUPPORTED_TARGET_MEMBERS.has(k));
    if (unsupported.length > 0) return `${unsupported.join(', ')} ${unsupported.length === 1 ? 'is' : 'are'} not supported by this endpoint.`;
    const arn = String(target.Arn);
    if (!(await this.destinationByArn(accountId, arn))) {
      return `Target ${arn} is not an API destination of this account; this endpoint delivers to API destinations only.`;
    }
    if (target.Input !== undefined && target.InputPath !== undefined) return 'Only one of Input and InputPath may be given.';
    if (typeof target.Input === 'string') {
      try {
        JSON.parse(target.Input);
      } catch {
        return 'Input is not valid JSON.';
      }
    }
    if (typeof target.InputPath === 'string' && !SIMPLE_JSON_PATH.test(target.InputPath)) {
      return 'InputPath must be a JSON path of field names, such as $.detail.';
    }
    return undefined;
  }
}

function checkPattern(text: string): void {
  try {
    compilePattern(text);
  } catch (err) {
    if (err instanceof InvalidPatternError) throw new EventBridgeError('InvalidPattern', err.message);
    throw err;
  }
}

function checkAuthParameters(type: 'BASIC' | 'API_KEY', params: Record<string, unknown>): void {
  const member = type === 'BASIC' ? 'BasicAuthParameters' : 'ApiKeyAuthParameters';
  const fields = type === 'BASIC' ? ['Username', 'Password'] : ['ApiKeyName', 'ApiKeyValue'];
  const given = params[member] as Record<string, unknown> | undefined;
  if (!given || !fields.every((f) => typeof given[f] === 'string' && given[f] !== '')) {
    throw new EventBridgeError('Invalid', `${member} with ${fields.join(' and ')} is required for authorization type ${type}.`);
  }
  const others = Object.keys(params).filter((k) => k !== member && k !== 'InvocationHttpParameters');
  if (others.length > 0) throw new EventBridgeError('Invalid', `${others.join(', ')} cannot be used with authorization type ${type}.`);
  const invocation = params.InvocationHttpParameters as Record<string, unknown> | undefined;
  if (invocation?.BodyParameters !== undefined) {
    throw new EventBridgeError('Invalid', 'BodyParameters are not supported by this endpoint; use HeaderParameters or QueryStringParameters.');
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameInArn(arn: string, kind: 'connection' | 'api-destination'): string | undefined {
  const match = new RegExp(`^arn:aws[a-z-]*:events:[a-z0-9-]*:\\d{12}:${kind}/([.\\-_A-Za-z0-9]+)/[-A-Za-z0-9]+$`).exec(arn);
  return match?.[1];
}
