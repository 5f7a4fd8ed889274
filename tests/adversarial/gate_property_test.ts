/**
 * Adversarial property: a seeded fast-check run of a few thousand mutations of a tlp:red
 * `/query` payload for `flowgate_event_publish`, against the repository's tlp:red publish gate
 * (`examples/block-tlp-red-publication.yaml`) and the README's. Everything but the tag may change: keys added,
 * removed, renamed, retyped, huge or unicode strings, duplicate and extra tags, extra and garbage
 * attributes, the tag copied onto attributes, core format or not, the `Event` wrapper or not,
 * how the JSON is spelled. The tlp:red tag stays where MISP reads it (an `Event.Tag` entry
 * `{"name": "tlp:red", …}`) and the event stays an event, so the only right answer is a block:
 * HTTP 200 with `{"error": …}` (MISP allows on any other status, and on `{"data": true}`).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { toCoreFormat } from "../../triggers/core_format.ts";
import { startTestApp, type TestApp } from "../server/test_app.ts";
import {
  describeAnswer,
  exampleTlpRedWorkflow,
  queryBlockProblem,
  readAnswer,
  README_WORKFLOW_YAML,
  saveWorkflowYaml,
  TLP_RED_TAG,
  tlpRedEvent,
} from "./harness.ts";

/** Fixed seed: a failure names its run, and the same run fails again. */
const SEED = 20_240_611;
/** Mutated payloads per gate: 2 × 1,250 (about 11 s on 2 cores). */
const RUNS_PER_GATE = 1_250;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A long string, spelled compactly in counterexamples. */
class Huge {
  constructor(readonly length: number, readonly unit: string) {}
  materialize(): string {
    return this.unit.repeat(Math.ceil(this.length / this.unit.length)).slice(0, this.length);
  }
  [fc.toStringMethod](): string {
    return `Huge(${this.length} × ${JSON.stringify(this.unit)})`;
  }
}

/** A value nested `depth` levels, spelled compactly in counterexamples. */
class Deep {
  constructor(readonly depth: number, readonly kind: "object" | "array") {}
  materialize(): Json {
    let value: Json = "bottom";
    for (let i = 0; i < this.depth; i++) value = this.kind === "array" ? [value] : { a: value };
    return value;
  }
  [fc.toStringMethod](): string {
    return `Deep(${this.depth} ${this.kind}s)`;
  }
}

type ValueSpec = Json | Huge | Deep;

function materialize(spec: ValueSpec): Json {
  if (spec instanceof Huge || spec instanceof Deep) return spec.materialize();
  return structuredClone(spec);
}

/** Keys a mutation may never create or rename to: they would replace the event or its tags. */
const FORBIDDEN_KEYS = new Set(["Event", "EventTag"]);

/** How the mutated payload is spelled on the wire (same JSON value every time). */
type Spelling =
  | "compact"
  | "pretty"
  | "php-escaped" // PHP json_encode's default: non-ASCII as \uXXXX, "/" as "\/"
  | "tag-escaped" // "tlp:red" spelled with \u escapes
  | "data-first"
  | "data-last"
  | "crlf-padded";

type Mutation =
  | { op: "set"; path: number[]; key: string; value: ValueSpec }
  | { op: "delete"; path: number[] }
  | { op: "rename"; path: number[]; key: string }
  | { op: "retype"; path: number[]; to: "string" | "number" | "null" | "array" | "object" | "bool" }
  | { op: "field"; field: EventField; value: ValueSpec }
  | { op: "duplicate-red"; copies: number; at: number }
  | { op: "extra-tags"; tags: ValueSpec[]; at: number }
  | { op: "attribute-tag"; index: number; name: string }
  | { op: "extra-attributes"; attributes: ValueSpec[] }
  | { op: "shuffle-tags"; seed: number }
  | { op: "core-format" }
  | { op: "body-key"; key: string; value: ValueSpec; after: boolean };

/** Event fields MISP fills that a mutation may blow up. */
type EventField =
  | "info"
  | "uuid"
  | "date"
  | "timestamp"
  | "attribute-value"
  | "attribute-comment"
  | "other-tag-name"
  | "org-name";

/** A mutated payload: what was done, then how it is sent. */
interface Case {
  mutations: Mutation[];
  unwrap: boolean;
  spelling: Spelling;
  contentType: string | undefined;
}

const key = fc.oneof(
  fc.constantFrom("info", "uuid", "Tag", "Attribute", "Object", "value", "name", "id", "__proto__"),
  fc.constantFrom("published", "distribution", "_AttributeFlattened", "Galaxy", "Orgc", "Sighting"),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 6, unit: "binary" }),
);

const unicodeUnit = fc.constantFrom("x", "é", "😀", "\u202e", '"', "\\", "\u0000", "<>", "\u2028");

const valueSpec: fc.Arbitrary<ValueSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: "binary" }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 70_000 }), unicodeUnit).map(([n, unit]) =>
      new Huge(n, unit)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 50, max: 2_000 }), fc.constantFrom("object", "array"))
      .map(([depth, kind]) => new Deep(depth, kind as "object" | "array")),
  },
);

const path = fc.array(fc.nat({ max: 1_000 }), { minLength: 0, maxLength: 6 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), path, key, value: valueSpec }),
  fc.record({ op: fc.constant("delete" as const), path }),
  fc.record({ op: fc.constant("rename" as const), path, key }),
  fc.record({
    op: fc.constant("retype" as const),
    path,
    to: fc.constantFrom("string", "number", "null", "array", "object", "bool") as fc.Arbitrary<
      "string" | "number" | "null" | "array" | "object" | "bool"
    >,
  }),
  fc.record({
    op: fc.constant("field" as const),
    field: fc.constantFrom<EventField>(
      "info",
      "uuid",
      "date",
      "timestamp",
      "attribute-value",
      "attribute-comment",
      "other-tag-name",
      "org-name",
    ),
    value: valueSpec,
  }),
  fc.record({
    op: fc.constant("duplicate-red" as const),
    copies: fc.integer({ min: 1, max: 5 }),
    at: fc.nat(),
  }),
  fc.record({
    op: fc.constant("extra-tags" as const),
    tags: fc.array(
      fc.oneof(
        fc.constantFrom<ValueSpec>(
          { name: "tlp:clear" },
          { name: "tlp:white", id: "1" },
          { name: "TLP:RED" },
          { name: "tlp:red ", local: true },
          { name: "PAP:RED" },
          { name: "tlp:amber" },
        ),
        valueSpec,
      ),
      { minLength: 1, maxLength: 6 },
    ),
    at: fc.nat(),
  }),
  fc.record({
    op: fc.constant("attribute-tag" as const),
    index: fc.nat(),
    name: fc.constantFrom("tlp:red", "tlp:clear", "tlp:white", "tlp:green"),
  }),
  fc.record({
    op: fc.constant("extra-attributes" as const),
    attributes: fc.array(
      fc.oneof(
        fc.record({
          type: fc.constantFrom("ip-dst", "domain", "md5", "text"),
          value: fc.string({ maxLength: 30 }),
          category: fc.constantFrom("Network activity", "Other"),
          Tag: fc.constant([{ name: "tlp:clear" }] as Json[]),
        }) as fc.Arbitrary<ValueSpec>,
        valueSpec,
      ),
      { minLength: 1, maxLength: 5 },
    ),
  }),
  fc.record({ op: fc.constant("shuffle-tags" as const), seed: fc.nat() }),
  fc.record({ op: fc.constant("core-format" as const) }),
  fc.record({
    op: fc.constant("body-key" as const),
    key: fc.oneof(
      fc.constantFrom("params", "filteredItems", "matchingData", "config", "event_id", "Event"),
      key,
    ),
    value: valueSpec,
    after: fc.boolean(),
  }),
);

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  mutations: fc.array(mutation, { minLength: 1, maxLength: 8 }),
  unwrap: fc.boolean(),
  spelling: fc.constantFrom<Spelling>(
    "compact",
    "pretty",
    "php-escaped",
    "tag-escaped",
    "data-first",
    "data-last",
    "crlf-padded",
  ),
  contentType: fc.constantFrom(
    "application/json",
    undefined,
    "text/plain",
    "application/json; charset=utf-8",
  ),
});

/** Sets an own key, even `__proto__`, as `JSON.parse` would. */
function setKey(target: JsonObject, name: string, value: Json): void {
  Object.defineProperty(target, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isRedTag(value: unknown): boolean {
  return isObject(value) && value.name === TLP_RED_TAG.name;
}

/** Where a path-driven mutation lands: the container, the key in it, and what is protected. */
interface Target {
  parent: JsonObject | Json[];
  key: string | number;
  /** The keys from `data` down to `key`. */
  trail: (string | number)[];
}

/** The `data` object's event: `data.Event` (the wrapper is never removed before sending). */
function eventOf(data: JsonObject): JsonObject {
  return data.Event as JsonObject;
}

/**
 * Walks `data` by `path` (each step picks child `n % children`), never into the tlp:red tag.
 * Returns the last (container, key) reached, or undefined when the walk found nothing to touch.
 */
function walk(data: JsonObject, steps: number[]): Target | undefined {
  let current: Json = data;
  let target: Target | undefined;
  const trail: (string | number)[] = [];
  for (const step of steps) {
    if (Array.isArray(current)) {
      if (current.length === 0) break;
      const index: number = step % current.length;
      if (isRedTag(current[index]) && isEventTagTrail(trail)) break;
      target = { parent: current, key: index, trail: [...trail, index] };
      trail.push(index);
      current = current[index]!;
    } else if (isObject(current)) {
      const keys: string[] = Object.keys(current);
      if (keys.length === 0) break;
      const name: string = keys[step % keys.length]!;
      target = { parent: current, key: name, trail: [...trail, name] };
      trail.push(name);
      current = current[name]!;
    } else {
      break;
    }
  }
  return target;
}

function isEventTagTrail(trail: (string | number)[]): boolean {
  return trail.length === 2 && trail[0] === "Event" && trail[1] === "Tag";
}

/** True when touching `target` could hide the tlp:red tag from MISP or replace the event. */
function isProtected(target: Target): boolean {
  const [first, second, third] = target.trail;
  if (target.trail.length === 1 && first === "Event") return true;
  if (target.trail.length === 2 && first === "Event" && second === "Tag") return true;
  if (first === "Event" && second === "Tag" && typeof third === "number") {
    const tags = (target.parent as Json[]) ?? [];
    if (target.trail.length === 3 && isRedTag(tags[third])) return true;
  }
  return false;
}

/** The container a `set` lands in: the last object or array the walk reached. */
function containerAt(
  data: JsonObject,
  steps: number[],
): { node: JsonObject | Json[]; trail: (string | number)[] } {
  let node: JsonObject | Json[] = data;
  const trail: (string | number)[] = [];
  for (const step of steps) {
    const entries: [string | number, Json][] = Array.isArray(node)
      ? node.map((value, index) => [index, value])
      : Object.entries(node);
    const containers = entries.filter(([, value]) => typeof value === "object" && value !== null);
    if (containers.length === 0) break;
    const [name, next] = containers[step % containers.length]!;
    if (isEventTagTrail(trail) && isRedTag(next)) break;
    node = next as JsonObject | Json[];
    trail.push(name);
  }
  return { node, trail };
}

function retype(value: Json, to: string): Json {
  switch (to) {
    case "string":
      return typeof value === "string" ? `${value}!` : JSON.stringify(value) ?? "";
    case "number":
      return typeof value === "number" ? -value : Number.parseFloat(String(value)) || 0;
    case "null":
      return null;
    case "array":
      return [value];
    case "object":
      return { value };
    default:
      return !value;
  }
}

/** Applies one mutation to `body` in place (a no-op when it would touch the tag or the event). */
function applyMutation(body: JsonObject, m: Mutation): void {
  const data = body.data as JsonObject;
  const event = eventOf(data);
  switch (m.op) {
    case "set": {
      if (FORBIDDEN_KEYS.has(m.key)) return;
      const { node, trail } = containerAt(data, m.path);
      if (Array.isArray(node)) {
        if (isEventTagTrail(trail)) node.push(materialize(m.value));
        else node[m.key.length % (node.length + 1)] = materialize(m.value);
      } else {
        if (trail.length === 1 && trail[0] === "Event" && m.key === "Tag") return;
        setKey(node, m.key, materialize(m.value));
      }
      return;
    }
    case "delete": {
      const target = walk(data, m.path);
      if (!target || isProtected(target)) return;
      if (Array.isArray(target.parent)) target.parent.splice(target.key as number, 1);
      else delete target.parent[target.key as string];
      return;
    }
    case "rename": {
      const target = walk(data, m.path);
      if (!target || isProtected(target) || Array.isArray(target.parent)) return;
      if (FORBIDDEN_KEYS.has(m.key)) return;
      if (target.trail.length === 2 && target.trail[0] === "Event" && m.key === "Tag") return;
      const value = target.parent[target.key as string]!;
      delete target.parent[target.key as string];
      setKey(target.parent, m.key, value);
      return;
    }
    case "retype": {
      const target = walk(data, m.path);
      if (!target || isProtected(target)) return;
      const parent = target.parent as Record<string | number, Json>;
      parent[target.key] = retype(parent[target.key]!, m.to);
      return;
    }
    case "field": {
      const value = materialize(m.value);
      const attributes = Array.isArray(event.Attribute) ? event.Attribute.filter(isObject) : [];
      if (
        m.field === "info" || m.field === "uuid" || m.field === "date" || m.field === "timestamp"
      ) {
        event[m.field] = value;
      } else if (m.field === "attribute-value" && attributes[0]) {
        attributes[0].value = value;
      } else if (m.field === "attribute-comment" && attributes[0]) {
        attributes[0].comment = value;
      } else if (m.field === "other-tag-name") {
        (event.Tag as Json[]).push({ id: "77", name: value });
      } else if (m.field === "org-name") {
        event.Orgc = { ...(isObject(event.Orgc) ? event.Orgc : {}), name: value };
      }
      return;
    }
    case "duplicate-red": {
      const tags = event.Tag as Json[];
      for (let i = 0; i < m.copies; i++) {
        tags.splice(m.at % (tags.length + 1), 0, { ...TLP_RED_TAG, id: String(9_100 + i) });
      }
      return;
    }
    case "extra-tags": {
      const tags = event.Tag as Json[];
      tags.splice(m.at % (tags.length + 1), 0, ...m.tags.map(materialize));
      return;
    }
    case "attribute-tag": {
      const attributes = Array.isArray(event.Attribute) ? event.Attribute.filter(isObject) : [];
      const attribute = attributes[m.index % Math.max(1, attributes.length)];
      if (!attribute) return;
      const tags = Array.isArray(attribute.Tag) ? attribute.Tag : [];
      attribute.Tag = [...tags, { id: "9002", name: m.name }];
      return;
    }
    case "extra-attributes": {
      const attributes = Array.isArray(event.Attribute) ? event.Attribute : [];
      event.Attribute = [...attributes, ...m.attributes.map(materialize)];
      return;
    }
    case "shuffle-tags": {
      const tags = event.Tag as Json[];
      let state = m.seed + 1;
      for (let i = tags.length - 1; i > 0; i--) {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
        const j = state % (i + 1);
        [tags[i], tags[j]] = [tags[j]!, tags[i]!];
      }
      return;
    }
    case "core-format": {
      try {
        body.data = toCoreFormat(data, { trigger: "event-publish" }) as JsonObject;
      } catch {
        // Not convertible any more: MISP would not have sent it in core format either.
      }
      return;
    }
    case "body-key": {
      if (m.key === "module" || m.key === "data") return;
      const value = materialize(m.value);
      const { module, data: payload, ...rest } = body;
      for (const name of Object.keys(body)) delete body[name];
      if (!m.after) setKey(body, m.key, value);
      for (const [name, kept] of Object.entries({ module, ...rest, data: payload })) {
        setKey(body, name, kept as Json);
      }
      if (m.after) setKey(body, m.key, value);
      return;
    }
  }
}

/**
 * Sends the event without its `Event` wrapper, as a bare event MISP's converter (and Flowgate's)
 * recognises by its `info`; the other `data` keys join it. Skipped when the result would not be
 * read as that event: no string `info`, or an `Event`/`EventTag` key inside that would take over.
 */
function unwrapEvent(body: JsonObject): void {
  const data = body.data as JsonObject;
  const event = eventOf(data);
  if (typeof event.info !== "string" || "Event" in event || "EventTag" in event) return;
  const bare: JsonObject = {};
  for (const [name, value] of Object.entries(data)) if (name !== "Event") setKey(bare, name, value);
  for (const [name, value] of Object.entries(event)) setKey(bare, name, value);
  body.data = bare;
}

/** True when `data` still carries the tlp:red tag where MISP reads it (`Event.Tag`, or `Tag`). */
function tagIsIntact(data: Json | undefined): boolean {
  if (!isObject(data)) return false;
  const event = isObject(data.Event) ? data.Event : "Event" in data ? undefined : data;
  if (event === undefined) return false;
  const tags = event.Tag;
  return Array.isArray(tags) &&
    tags.some((tag) => isObject(tag) && tag.name === "tlp:red" && tag.id === TLP_RED_TAG.id);
}

/** Spells the body on the wire; every spelling is the same JSON value. */
function spell(body: JsonObject, spelling: Spelling): string {
  switch (spelling) {
    case "pretty":
      return JSON.stringify(body, null, 2);
    case "php-escaped":
      return JSON.stringify(body).replace(
        /[\u007f-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      ).replaceAll("/", "\\/");
    case "tag-escaped":
      return JSON.stringify(body).replaceAll(
        '"tlp:red"',
        '"\\u0074\\u006c\\u0070\\u003a\\u0072\\u0065\\u0064"',
      );
    case "data-first": {
      const { data, ...rest } = body;
      return JSON.stringify({ data, ...rest });
    }
    case "data-last": {
      const { data, ...rest } = body;
      return JSON.stringify({ ...rest, data });
    }
    case "crlf-padded":
      return `\r\n ${JSON.stringify(body, null, "\t").replaceAll("\n", "\r\n")} \r\n`;
    default:
      return JSON.stringify(body);
  }
}

function describeCase(c: Case): string {
  return fc.stringify(c).slice(0, 1_500);
}

/** Runs the property against `yaml` saved as the only workflow. */
async function assertGateHolds(yaml: string, seed: number): Promise<void> {
  await using test: TestApp = await startTestApp();
  await saveWorkflowYaml(test, yaml);
  const base = await tlpRedEvent();
  await fc.assert(
    fc.asyncProperty(caseArbitrary, async (c) => {
      const body: JsonObject = {
        module: "flowgate_event_publish",
        data: structuredClone(base) as JsonObject,
        params: {},
      };
      for (const m of c.mutations) applyMutation(body, m);
      if (c.unwrap) unwrapEvent(body);
      // The generator keeps the tag where MISP reads it; a broken generator must not pass quietly.
      assert.ok(tagIsIntact(body.data), `Generator bug: tlp:red lost by ${describeCase(c)}`);
      const response = await test.request("/query", {
        method: "POST",
        headers: c.contentType ? { "Content-Type": c.contentType } : {},
        body: spell(body, c.spelling),
      });
      const answer = await readAnswer(response);
      const problem = queryBlockProblem(answer);
      if (problem !== undefined) {
        throw new Error(
          `tlp:red payload not blocked (${problem})\n  mutations: ${describeCase(c)}\n  answer: ${
            describeAnswer(answer.status, answer.text)
          }`,
        );
      }
    }),
    { seed, numRuns: RUNS_PER_GATE, endOnFailure: true },
  );
}

Deno.test("POST /query never allows a tlp:red publication through the example gate", async () => {
  await assertGateHolds(await exampleTlpRedWorkflow(), SEED);
});

Deno.test("POST /query never allows a tlp:red publication through the README's gate", async () => {
  // Its message quotes Event.info: the long-field fail-open of issue 10.
  await assertGateHolds(README_WORKFLOW_YAML, SEED + 1);
});
