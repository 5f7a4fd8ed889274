/**
 * A local fake of MISP's REST API for tests: listens on 127.0.0.1 (port 0), answers with MISP's
 * shapes and errors (reference §3), records every request, and holds a small in-memory state.
 *
 * ```ts
 * await using misp = await startFakeMisp({ events: [sighting2] });
 * const client = createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true });
 * await client.request("POST", "/events/publish/2");
 * misp.requests[0]; // { method: "POST", path: "/events/publish/2", headers, body }
 * misp.failNext({ status: 500, count: 2 }); // the next two calls answer 500
 * ```
 *
 * Supported: events (view, edit, publish, unpublish, restSearch, enrichEvent), attributes (edit,
 * enrich, restSearch with decay scores), modules/queryEnrichment, tags (attachTagToObject, removeTagFromObject), galaxies
 * (index, view), eventBlocklists/add, shadowAttributes (accept, discard), warninglists (index,
 * view, edit, checkValue), organisations/view, admin/users/index,
 * workflows/moduleStatelessExecution, analyst_data/add and objects/add, and the administration
 * routes of `misp_admin_routes.ts` (getVersion, serverSettingsEdit, workflow modules, triggers,
 * editor, view, edit, toggleModule). A bad key answers 403, an unknown route 404, a wrong method
 * 405, all with MISP's `{name, message, url}` body.
 *
 * @module
 */

import {
  adminRoutes,
  createAdminState,
  type FakeMispAdminState,
  type FakeSettingValue,
  type FakeWorkflow,
} from "./misp_admin_routes.ts";

type Json = Record<string, unknown>;

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  /** Path with named params, without the query string: `/events/view/12/includeDecayScore:1`. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or undefined without a body. */
  body: unknown;
}

/** What the `onPublish` hook may answer: a reason blocks the publication as MISP does. */
export type PublishVerdict = void | { block: string };

/** Options of `startFakeMisp`. */
export interface FakeMispOptions {
  /** Events, with or without the `{"Event": …}` wrapper (deep-copied). */
  events?: Json[];
  /** Users as `/admin/users/index` lists them: `{User, Role, Organisation}`. */
  users?: Json[];
  /** Warninglists: `{id, name, type, category, description, enabled, default, WarninglistEntry}`. */
  warninglists?: Json[];
  /** Galaxies as `/galaxies/view` answers: `{Galaxy, GalaxyCluster: […]}`. */
  galaxies?: Json[];
  /** Organisations: `{id, name, uuid}`. */
  organisations?: Json[];
  /** Called with `{Event}` when `/events/publish/<id>` is called, as MISP runs its workflow. */
  onPublish?: (event: Json) => PublishVerdict | Promise<PublishVerdict>;
  /**
   * Answer of `/modules/queryEnrichment` for a query (default: one legacy result,
   * `{"results": [{"types": ["text"], "values": ["<module> saw <value>"]}]}`).
   */
  enrichment?: (query: Json) => Json;
  /** API key to accept (default: a random 40-character hex key). */
  apiKey?: string;
  /** Server settings already set (`{"Plugin.Workflow_enable": true}`); others have MISP's defaults. */
  settings?: Record<string, FakeSettingValue>;
  /** Workflows MISP already holds (one per trigger, `data` as MISP decodes it). */
  workflows?: FakeWorkflow[];
}

/** How the next calls should fail (`failNext`). */
export interface FailureSpec {
  /** Answer status; default 500. */
  status?: number;
  /** Wait this long before answering (a delay longer than the client's timeout is a timeout). */
  delayMs?: number;
  /** How many calls fail; default 1. */
  count?: number;
  /** Answer body; default MISP's `{name, message, url}` for the status. */
  body?: Json;
  headers?: Record<string, string>;
}

/** The fake's in-memory state, open for tests to read and seed. */
export interface FakeMispState extends FakeMispAdminState {
  /** Events by id (unwrapped event objects). */
  events: Map<string, Json>;
  users: Json[];
  warninglists: Map<string, Json>;
  galaxies: Json[];
  organisations: Json[];
  /** Entries added through `/eventBlocklists/add`. */
  blocklist: Json[];
  /** Bodies of `/workflows/moduleStatelessExecution/<id>` calls, with the module id. */
  statelessExecutions: { moduleId: string; body: unknown }[];
  /** Notes, opinions and relationships added through `/analyst_data/add`, with their type. */
  analystData: { type: string; data: Json }[];
}

/** A running fake MISP. */
export interface FakeMisp extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  state: FakeMispState;
  /** Makes the next calls fail (status, delay) before they reach the routes. */
  failNext(spec?: FailureSpec): void;
  /** Finds an event by id or uuid. */
  event(idOrUuid: string): Json | undefined;
  close(): Promise<void>;
}

/** Starts a fake MISP REST API on 127.0.0.1, port 0. */
export function startFakeMisp(options: FakeMispOptions = {}): Promise<FakeMisp> {
  const apiKey = options.apiKey ?? randomKey();
  const state: FakeMispState = {
    events: new Map(),
    users: structuredClone(options.users ?? []),
    warninglists: new Map(),
    galaxies: structuredClone(options.galaxies ?? []),
    organisations: structuredClone(options.organisations ?? []),
    blocklist: [],
    statelessExecutions: [],
    analystData: [],
    ...createAdminState(options.settings, options.workflows),
  };
  for (const raw of options.events ?? []) {
    const event = structuredClone((raw.Event ?? raw) as Json);
    state.events.set(String(event.id), event);
  }
  for (const list of options.warninglists ?? []) {
    state.warninglists.set(String(list.id), structuredClone(list));
  }
  const requests: RecordedRequest[] = [];
  const failures: FailureSpec[] = [];
  const routes = createRoutes(state, options);

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = await request.text();
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => headers[name] = value);
    requests.push({ method: request.method, path: url.pathname, headers, body: parseBody(text) });
    const failure = failures.shift();
    if (failure) {
      if (failure.delayMs) await new Promise((resolve) => setTimeout(resolve, failure.delayMs));
      const status = failure.status ?? 500;
      return json(failure.body ?? errorBody(status, url.pathname), status, failure.headers);
    }
    if (request.headers.get("authorization") !== apiKey) {
      return json({
        name:
          "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
        message:
          "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
        url: url.pathname,
      }, 403);
    }
    return routes(request.method, url.pathname, parseBody(text));
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const close = async () => {
    await server.shutdown();
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    apiKey,
    requests,
    state,
    failNext(spec: FailureSpec = {}) {
      for (let i = 0; i < (spec.count ?? 1); i++) failures.push(spec);
    },
    event: (idOrUuid) => findEvent(state, idOrUuid),
    close,
    [Symbol.asyncDispose]: close,
  });
}

type Route = (params: string[], body: unknown) => Response | Promise<Response>;

function createRoutes(
  state: FakeMispState,
  options: FakeMispOptions,
): (method: string, path: string, body: unknown) => Promise<Response> {
  const onPublish = options.onPublish;
  const enrichment = options.enrichment ?? ((query: Json) => {
    const attribute = (query.attribute ?? {}) as Json;
    return { results: [{ types: ["text"], values: [`${query.module} saw ${attribute.value}`] }] };
  });
  const table: [string, RegExp, Route][] = [
    ...adminRoutes(state),
    ["GET", /^\/events\/view\/([^/]+)(\/.*)?$/, ([id]) => {
      const event = findEvent(state, id!);
      return event ? json({ Event: structuredClone(event) }) : invalid("Invalid event.", 404);
    }],
    ["POST", /^\/events\/edit\/([^/]+)$/, ([id], body) => {
      const event = findEvent(state, id!);
      if (!event) return invalid("Invalid event", 404);
      const changes = unwrap(body, "Event");
      Object.assign(event, changes);
      if (!("published" in changes)) event.published = false;
      event.timestamp = nowString();
      return json({ Event: structuredClone(event) });
    }],
    ["POST", /^\/events\/publish\/([^/]+)$/, async ([id]) => {
      const event = findEvent(state, id!);
      if (!event) return invalid("Invalid event.", 404);
      const verdict = await onPublish?.({ Event: structuredClone(event) });
      const path = `/events/publish/${event.id}`;
      if (verdict && "block" in verdict) {
        return json({
          saved: false,
          name: "Publishing failed",
          message: "Publishing failed",
          url: path,
          errors: { Module: [verdict.block] },
        }, 403);
      }
      event.published = true;
      event.publish_timestamp = nowString();
      return success("Event published without alerts", path, event.id);
    }],
    ["POST", /^\/events\/unpublish\/([^/]+)$/, ([id]) => {
      const event = findEvent(state, id!);
      if (!event) return invalid("Invalid event.", 404);
      event.published = false;
      return success("Event unpublished.", `/events/unpublish/${event.id}`, event.id);
    }],
    ["POST", /^\/events\/restSearch$/, (_, body) => {
      const filters = (body ?? {}) as Json;
      const wanted = toList(filters.eventid ?? filters.uuid).map(String);
      const events = [...state.events.values()].filter((event) =>
        wanted.length === 0 || wanted.includes(String(event.id)) ||
        wanted.includes(String(event.uuid))
      );
      return json({ response: events.map((event) => ({ Event: structuredClone(event) })) });
    }],
    ["POST", /^\/events\/enrichEvent\/([^/]+)$/, ([id], body) => {
      const event = findEvent(state, id!);
      if (!event) return invalid("Invalid event.", 404);
      const modules = Object.keys((body ?? {}) as Json);
      for (const module of modules) addEnrichedAttribute(event, module);
      return success(`Enriching event with ${modules.join(", ")}.`, `/events/enrichEvent/${id}`);
    }],
    ["POST", /^\/attributes\/edit\/([^/]+)$/, ([id], body) => {
      const found = findAttribute(state, id!);
      if (!found) return invalid("Invalid attribute", 404);
      const changes = { ...unwrap(body, "Attribute") };
      delete changes.timestamp;
      Object.assign(found.attribute, changes, { timestamp: nowString() });
      found.event.published = false;
      return json({ Attribute: structuredClone(found.attribute) });
    }],
    ["POST", /^\/attributes\/enrich\/([^/]+)$/, ([id], body) => {
      const found = findAttribute(state, id!);
      if (!found) return invalid("Invalid attribute", 404);
      const modules = Object.keys((body ?? {}) as Json);
      for (const module of modules) addEnrichedAttribute(found.event, module);
      return success(
        `#${modules.length} attributes have been created during the enrichment process.`,
        `/attributes/enrich/${id}`,
      );
    }],
    ["POST", /^\/attributes\/restSearch$/, (_, body) => {
      const filters = (body ?? {}) as Json;
      const uuids = toList(filters.uuid).map(String);
      const models = toList(filters.decayingModel).map(String);
      const attributes = allAttributes(state)
        .filter(({ attribute }) => uuids.length === 0 || uuids.includes(String(attribute.uuid)))
        .map(({ attribute }) => {
          const copy = structuredClone(attribute);
          if (filters.includeDecayScore) {
            copy.decay_score = models.map((model) => ({
              score: 42.5,
              base_score: 80,
              decayed: false,
              DecayingModel: { id: model, name: `Model ${model}` },
            }));
          }
          return copy;
        });
      return json({ response: { Attribute: attributes } });
    }],
    ["POST", /^\/tags\/attachTagToObject$/, (_, body) => {
      const request = (body ?? {}) as Json;
      const target = findTarget(state, String(request.uuid));
      if (!target) return failure("Failed to attach tag to object.", "Invalid Target.");
      const name = String(request.tag);
      const tags = (target.holder.Tag ??= []) as Json[];
      const label = `${target.scope}(${target.holder.id})`;
      if (tags.some((tag) => String(tag.name).toLowerCase() === name.toLowerCase())) {
        return success(
          `${label} already has the requested tag attached, no changes had to be made.`,
          "/tags/attachTagToObject",
        );
      }
      const local = request.local === true || request.local === 1 || request.local === "1";
      const tag: Json = { id: String(tagId(name)), name, local };
      if (typeof request.relationship_type === "string" && request.relationship_type !== "") {
        tag.relationship_type = request.relationship_type;
      }
      tags.push(tag);
      if (!local) target.event.published = false;
      return success(
        `${local ? "Local" : "Global"} tag ${name}(${tag.id}) successfully attached to ${label}.`,
        "/tags/attachTagToObject",
      );
    }],
    ["POST", /^\/tags\/removeTagFromObject$/, (_, body) => {
      const request = (body ?? {}) as Json;
      const target = findTarget(state, String(request.uuid));
      if (!target) return invalid("Invalid object.", 404);
      const name = String(request.tag).toLowerCase();
      const tags = (target.holder.Tag ?? []) as Json[];
      const index = tags.findIndex((tag) => String(tag.name).toLowerCase() === name);
      if (index < 0) return invalid("Invalid tag or tag not associated with the object.", 404);
      const [removed] = tags.splice(index, 1);
      if (!removed?.local) target.event.published = false;
      return success(
        `Tag ${removed?.name}(${removed?.id}) successfully removed from ${target.scope}(${target.holder.id}).`,
        "/tags/removeTagFromObject",
      );
    }],
    [
      "GET",
      /^\/galaxies\/index$/,
      () => json(state.galaxies.map((entry) => ({ Galaxy: entry.Galaxy }))),
    ],
    ["GET", /^\/galaxies\/view\/([^/]+)$/, ([id]) => {
      const entry = state.galaxies.find((candidate) => {
        const galaxy = candidate.Galaxy as Json;
        return String(galaxy.id) === id || galaxy.uuid === id;
      });
      return entry ? json(structuredClone(entry)) : invalid("Invalid galaxy.", 404);
    }],
    ["POST", /^\/eventBlocklists\/add$/, (_, body) => {
      const request = (body ?? {}) as Json;
      const uuids = toList(request.uuids).map(String);
      for (const uuid of uuids) {
        state.blocklist.push({
          event_uuid: uuid,
          comment: request.comment,
          event_info: request.event_info,
          event_orgc: request.event_orgc,
        });
      }
      return json({
        result: { successes: uuids, fails: [] },
        message: `Done. Added ${uuids.length} new entries (0 failures).`,
      });
    }],
    ["POST", /^\/shadowAttributes\/accept\/([^/]+)$/, ([id]) => {
      const proposal = takeProposal(state, id!);
      if (!proposal) return invalid("Invalid proposal.", 405);
      return json({
        name: "Proposal accepted.",
        message: "Proposal accepted.",
        url: `/shadow_attributes/accept/${id}`,
      });
    }],
    ["POST", /^\/shadowAttributes\/discard\/([^/]+)$/, ([id]) => {
      const proposal = takeProposal(state, id!);
      if (!proposal) return invalid("Invalid proposal.", 405);
      return json({ saved: true, success: "Proposal discarded." });
    }],
    ["GET", /^\/warninglists\/index$/, () =>
      json({
        Warninglists: [...state.warninglists.values()].map((list) => ({ Warninglist: list })),
      })],
    ["GET", /^\/warninglists\/view\/([^/]+)$/, ([id]) => {
      const list = state.warninglists.get(id!);
      return list
        ? json({ Warninglist: structuredClone(list) })
        : invalid("Invalid Warninglist.", 404);
    }],
    ["POST", /^\/warninglists\/edit\/([^/]+)$/, ([id], body) => {
      const list = state.warninglists.get(id!);
      if (!list) return invalid("Invalid Warninglist.", 404);
      const changes = { ...unwrap(body, "Warninglist") };
      const entries = changes.entries;
      delete changes.entries;
      Object.assign(list, changes);
      if (entries !== undefined) {
        const lines = Array.isArray(entries) ? entries.map(String) : String(entries).split("\n");
        list.WarninglistEntry = lines.filter((line) => line.trim() !== "").map((line, index) => {
          const [value = "", comment = ""] = line.split(" # ");
          return { id: String(index + 1), value: value.trim(), comment: comment.trim() || null };
        });
      }
      list.version = Number(list.version ?? 1) + 1;
      return json({ Warninglist: structuredClone(list) });
    }],
    ["POST", /^\/warninglists\/checkValue$/, (_, body) => {
      const answer: Json = {};
      for (const value of toList(body).map(String)) {
        const hits = [...state.warninglists.values()]
          .filter((list) => list.enabled !== false)
          .filter((list) =>
            ((list.WarninglistEntry ?? []) as Json[]).some((entry) => entry.value === value)
          )
          .map((list) => ({ id: String(list.id), name: list.name, matched: value }));
        if (hits.length > 0) answer[value] = hits;
      }
      return json(answer);
    }],
    ["GET", /^\/organisations\/view\/([^/]+)$/, ([id]) => {
      const org = state.organisations.find((candidate) => String(candidate.id) === id);
      return org ? json({ Organisation: org }) : invalid("Invalid organisation", 404);
    }],
    ["GET", /^\/admin\/users\/index(\/.*)?$/, () => json(structuredClone(state.users))],
    ["POST", /^\/modules\/queryEnrichment$/, (_, body) => json(enrichment((body ?? {}) as Json))],
    ["POST", /^\/workflows\/moduleStatelessExecution\/([^/]+)$/, ([moduleId], body) => {
      state.statelessExecutions.push({ moduleId: moduleId!, body });
      return json({ success: true, errors: [] });
    }],
    [
      "POST",
      /^\/analyst_data\/add\/([^/]+)\/([^/]+)\/([^/]+)$/,
      ([type, uuid, objectType], body) => {
        if (!["Note", "Opinion", "Relationship"].includes(type!)) {
          return invalid("Invalid analyst data type.", 405);
        }
        if (!findUuid(state, uuid!)) return invalid("Invalid target.", 404);
        const data: Json = {
          ...unwrap(body, type!),
          id: String(state.analystData.length + 1),
          uuid: crypto.randomUUID(),
          object_uuid: uuid,
          object_type: objectType,
        };
        state.analystData.push({ type: type!, data });
        return json({ [type!]: structuredClone(data) });
      },
    ],
    ["POST", /^\/objects\/add\/([^/]+)$/, ([eventId], body) => {
      const event = findEvent(state, eventId!);
      if (!event) return invalid("Invalid event.", 404);
      const request = (body ?? {}) as Json;
      const object = { ...unwrap(request, "Object") };
      const attributes = (object.Attribute ?? request.Attribute ?? []) as Json[];
      const objects = (event.Object ??= []) as Json[];
      const id = String(80_000 + objects.length);
      const saved: Json = {
        ...object,
        id,
        uuid: crypto.randomUUID(),
        event_id: String(event.id),
        Attribute: attributes.map((attribute, index) => ({
          ...attribute,
          id: `${id}${index}`,
          uuid: crypto.randomUUID(),
          object_id: id,
          Tag: [],
        })),
      };
      objects.push(saved);
      event.published = false;
      return json({ Object: structuredClone(saved) });
    }],
  ];
  return async (method, path, body) => {
    let pathKnown = false;
    for (const [routeMethod, pattern, route] of table) {
      const match = pattern.exec(path);
      if (!match) continue;
      pathKnown = true;
      if (routeMethod === method) return await route(match.slice(1).map(decodeURIComponent), body);
    }
    if (pathKnown) {
      return json({
        name: `This function can only be reached via ${method === "GET" ? "POST" : "GET"}.`,
        message: `This function can only be reached via ${method === "GET" ? "POST" : "GET"}.`,
        url: path,
      }, 405);
    }
    return json({ name: "Not Found", message: "Not Found", url: path }, 404);
  };
}

interface FoundAttribute {
  event: Json;
  attribute: Json;
}

function allAttributes(state: FakeMispState): FoundAttribute[] {
  const found: FoundAttribute[] = [];
  for (const event of state.events.values()) {
    for (const attribute of (event.Attribute ?? []) as Json[]) found.push({ event, attribute });
    for (const object of (event.Object ?? []) as Json[]) {
      for (const attribute of (object.Attribute ?? []) as Json[]) found.push({ event, attribute });
    }
  }
  return found;
}

function findEvent(state: FakeMispState, idOrUuid: string): Json | undefined {
  return state.events.get(idOrUuid) ??
    [...state.events.values()].find((event) => event.uuid === idOrUuid);
}

function findAttribute(state: FakeMispState, idOrUuid: string): FoundAttribute | undefined {
  return allAttributes(state).find(({ attribute }) =>
    String(attribute.id) === idOrUuid || attribute.uuid === idOrUuid
  );
}

function findTarget(
  state: FakeMispState,
  uuid: string,
): { scope: "Event" | "Attribute"; holder: Json; event: Json } | undefined {
  const event = [...state.events.values()].find((candidate) => candidate.uuid === uuid);
  if (event) return { scope: "Event", holder: event, event };
  const found = allAttributes(state).find(({ attribute }) => attribute.uuid === uuid);
  return found && { scope: "Attribute", holder: found.attribute, event: found.event };
}

function findUuid(state: FakeMispState, uuid: string): boolean {
  for (const event of state.events.values()) {
    if (event.uuid === uuid) return true;
    const lists = [event.Object, event.EventReport].map((list) => (list ?? []) as Json[]);
    if (lists.some((list) => list.some((item) => item.uuid === uuid))) return true;
  }
  return allAttributes(state).some(({ attribute }) => attribute.uuid === uuid);
}

function takeProposal(state: FakeMispState, id: string): Json | undefined {
  const holders: Json[] = [];
  for (const event of state.events.values()) holders.push(event);
  for (const { attribute } of allAttributes(state)) holders.push(attribute);
  for (const holder of holders) {
    const proposals = (holder.ShadowAttribute ?? []) as Json[];
    const index = proposals.findIndex((proposal) => String(proposal.id) === id);
    if (index >= 0) return proposals.splice(index, 1)[0];
  }
  return undefined;
}

function addEnrichedAttribute(event: Json, module: string): void {
  const attributes = (event.Attribute ??= []) as Json[];
  const id = String(90_000 + attributes.length);
  attributes.push({
    id,
    uuid: crypto.randomUUID(),
    event_id: String(event.id),
    object_id: "0",
    type: "comment",
    category: "Other",
    value: `Enriched via the ${module} module`,
    to_ids: false,
    distribution: "5",
    comment: `Attribute #${id} enriched by ${module}.`,
    Tag: [],
  });
}

function unwrap(body: unknown, model: string): Json {
  const object = (typeof body === "object" && body !== null ? body : {}) as Json;
  const inner = object[model];
  return (typeof inner === "object" && inner !== null ? inner : object) as Json;
}

function toList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function tagId(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) % 100_000;
  return hash + 1;
}

function success(message: string, url: string, id?: unknown): Response {
  return json({
    saved: true,
    success: true,
    name: message,
    message,
    url,
    ...(id === undefined ? {} : { id: String(id) }),
  });
}

function failure(name: string, errors: unknown): Response {
  return json({ saved: false, name, message: name, url: "", errors }, 403);
}

function invalid(message: string, status: number): Response {
  return json({ name: message, message, url: "" }, status);
}

function errorBody(status: number, url: string): Json {
  const name = status === 429
    ? "Too Many Requests"
    : status >= 500
    ? "An Internal Error Has Occurred."
    : "Could not complete the request";
  return { name, message: name, url };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function nowString(): string {
  return String(Math.floor(Date.now() / 1_000));
}

function randomKey(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}
