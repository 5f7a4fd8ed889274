/**
 * What a publication sends out: the attributes, objects and event tags added, changed or removed
 * since the event's last publication, as a compact, size-capped summary for approval cards.
 *
 * MISP runs the `event-publish` trigger before it stamps the new publication
 * (`Event::publish()`), so `Event.publish_timestamp` in the trigger's data is the previous
 * publication, 0 when there was none. As in MISP's alert e-mail, an attribute or object whose
 * `timestamp` is later than that was added or changed since; one with `deleted: true` was
 * removed. A snapshot of the last approved content (`publicationSnapshot`) adds what timestamps
 * cannot tell: which of those are new (MISP ids only grow) and which event tags came or went.
 *
 * @module
 */

import type { JsonObject } from "./model.ts";

/** Most lines a summary keeps per kind (attributes, objects, tags); the counts stay exact. */
export const MAX_CHANGE_LINES = 10;
/** Longest line of a summary, in characters. */
export const MAX_CHANGE_LINE_CHARS = 120;
/** Most event tags a snapshot keeps for the next comparison. */
export const MAX_SNAPSHOT_TAGS = 50;
/** Longest tag name a snapshot keeps. */
const MAX_TAG_CHARS = 100;

/** What happened to one item since the last publication. */
export type ChangeOp = "added" | "changed" | "removed";

/** The kinds of item a summary counts. */
export type ChangeKind = "attribute" | "object" | "tag";

/**
 * How many items of one kind were added, changed or removed. `changed` also holds items that are
 * new when no snapshot tells new from changed (`added_known` is false).
 */
export interface ChangeCount {
  added: number;
  changed: number;
  removed: number;
}

/** One shown change. */
export interface ChangeLine {
  op: ChangeOp;
  kind: ChangeKind;
  /** E.g. `Network activity/ip-dst 203.0.113.5 (IDS)`, cut to `MAX_CHANGE_LINE_CHARS`. */
  text: string;
}

/** The compact content of an approved event, kept to compare the next publication with. */
export interface PublicationSnapshot {
  /** Highest MISP attribute id of the event (0 when it had none or no ids). */
  "max_attribute_id": number;
  /** Highest MISP object id of the event. */
  "max_object_id": number;
  /** Event tag names, at most `MAX_SNAPSHOT_TAGS`. */
  tags: string[];
  /** True when the event had more tags than the snapshot keeps. */
  "tags_cut"?: boolean;
}

/** What a publication changes, as stored with an approval. */
export interface PublicationChanges {
  /**
   * `first-publication`: the event was never published, everything goes out;
   * `since-last-publication`: only what changed after `since` is counted;
   * `unknown`: the data has no `publish_timestamp` (or one that is not a time), everything is
   * listed as new or changed.
   */
  basis: "first-publication" | "since-last-publication" | "unknown";
  /** The last publication (ISO), for `since-last-publication`. */
  since?: string;
  /** True when a snapshot of the last approval told new items from changed ones. */
  "added_known": boolean;
  /** True when event tags were compared with the last approved publication. */
  "tags_compared": boolean;
  attributes: ChangeCount;
  objects: ChangeCount;
  tags: ChangeCount;
  /** Up to `MAX_CHANGE_LINES` lines per kind, in the event's order. */
  lines: ChangeLine[];
}

/** Options of `publicationChanges`. */
export interface PublicationChangesOptions {
  /** The snapshot of the last approved publication of the same event, when there is one. */
  previous?: PublicationSnapshot | null;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function eventOf(data: JsonObject): JsonObject {
  return isObject(data.Event) ? data.Event : data;
}

function list(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** MISP's numbers come as numbers or digit strings; anything else counts as 0. */
function numberOf(value: unknown): number {
  const number = typeof value === "number" ? value : Number(String(value ?? ""));
  return Number.isFinite(number) ? number : 0;
}

/** Largest Unix time, in seconds, a `Date` can hold (year 275760). */
const MAX_DATE_SECONDS = 8_640_000_000_000;

/**
 * The last publication, in Unix seconds (0: never published), or undefined when MISP sent none or
 * sent something that is not a time (not a number, or beyond the dates a `Date` can hold).
 */
function publishedAt(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = typeof value === "number" ? value : Number(String(value).trim() || NaN);
  return Number.isFinite(seconds) && Math.abs(seconds) <= MAX_DATE_SECONDS ? seconds : undefined;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The event's tag names (`Event.Tag`, or MISP's `EventTag[].Tag`), in order, without repeats. */
export function eventTagNames(data: JsonObject): string[] {
  const event = eventOf(data);
  const tags = [
    ...list(event.Tag),
    ...list(event.EventTag).map((link) => isObject(link.Tag) ? link.Tag : {}),
  ];
  const names = tags.map((tag) => typeof tag.name === "string" ? tag.name : "").filter(Boolean);
  return [...new Set(names)];
}

function maxId(items: JsonObject[]): number {
  return items.reduce((max, item) => Math.max(max, numberOf(item.id)), 0);
}

function allAttributes(event: JsonObject): { attribute: JsonObject; object?: JsonObject }[] {
  const direct = list(event.Attribute).map((attribute) => ({ attribute }));
  const inObjects = list(event.Object).flatMap((object) =>
    list(object.Attribute).map((attribute) => ({ attribute, object }))
  );
  return [...direct, ...inObjects];
}

/** The compact snapshot of `data` to store with an approval (ids and tags, no values). */
export function publicationSnapshot(data: JsonObject): PublicationSnapshot {
  const event = eventOf(data);
  const tags = eventTagNames(data);
  return {
    max_attribute_id: maxId(allAttributes(event).map((item) => item.attribute)),
    max_object_id: maxId(list(event.Object)),
    tags: tags.slice(0, MAX_SNAPSHOT_TAGS).map((tag) => clip(tag, MAX_TAG_CHARS)),
    ...(tags.length > MAX_SNAPSHOT_TAGS ? { tags_cut: true } : {}),
  };
}

function attributeText(attribute: JsonObject, object?: JsonObject): string {
  const where = object
    ? `${String(object.name ?? "object")}/${String(attribute.object_relation ?? attribute.type)}`
    : `${String(attribute.category ?? "")}/${String(attribute.type ?? "")}`;
  const ids = isTrue(attribute.to_ids) ? " (IDS)" : "";
  return clip(`${where} ${String(attribute.value ?? "")}${ids}`, MAX_CHANGE_LINE_CHARS);
}

function objectText(object: JsonObject): string {
  const count = list(object.Attribute).length;
  const category = object["meta-category"] ? `/${String(object["meta-category"])}` : "";
  return clip(
    `${String(object.name ?? "object")}${category} (${count} attribute${count === 1 ? "" : "s"})`,
    MAX_CHANGE_LINE_CHARS,
  );
}

function emptyCount(): ChangeCount {
  return { added: 0, changed: 0, removed: 0 };
}

/** Collects counts and the first lines of each kind. */
class ChangeCollector {
  readonly counts: Record<ChangeKind, ChangeCount> = {
    attribute: emptyCount(),
    object: emptyCount(),
    tag: emptyCount(),
  };
  readonly lines: ChangeLine[] = [];
  readonly #shown: Record<ChangeKind, number> = { attribute: 0, object: 0, tag: 0 };

  add(kind: ChangeKind, op: ChangeOp, text: () => string): void {
    this.counts[kind][op]++;
    if (this.#shown[kind] >= MAX_CHANGE_LINES) return;
    this.#shown[kind]++;
    this.lines.push({ op, kind, text: text() });
  }
}

/**
 * What publishing `data` (an event as the `event-publish` trigger sends it) changes since the
 * event's last publication. Pure; the summary is bounded whatever the event's size.
 */
export function publicationChanges(
  data: JsonObject,
  options: PublicationChangesOptions = {},
): PublicationChanges {
  const event = eventOf(data);
  const since = publishedAt(event.publish_timestamp);
  const unknown = since === undefined;
  const first = !unknown && since <= 0;
  const previous = first || unknown ? null : options.previous ?? null;
  const collector = new ChangeCollector();
  /** `added` or `changed` for an item changed since the last publication. */
  const opOf = (item: JsonObject, maxKnownId: number | undefined): ChangeOp => {
    if (isTrue(item.deleted)) return "removed";
    if (first) return "added";
    if (maxKnownId === undefined) return "changed";
    return numberOf(item.id) > maxKnownId ? "added" : "changed";
  };
  const changedSince = (item: JsonObject) =>
    first || since === undefined || numberOf(item.timestamp) > since;
  const skip = (item: JsonObject) => (first || unknown) && isTrue(item.deleted);

  for (const { attribute, object } of allAttributes(event)) {
    if (skip(attribute)) continue;
    if (!changedSince(attribute)) continue;
    collector.add(
      "attribute",
      opOf(attribute, previous?.max_attribute_id),
      () => attributeText(attribute, object),
    );
  }
  for (const object of list(event.Object)) {
    if (skip(object)) continue;
    if (!changedSince(object)) continue;
    collector.add("object", opOf(object, previous?.max_object_id), () => objectText(object));
  }
  const tags = eventTagNames(data);
  if (first) {
    for (const tag of tags) collector.add("tag", "added", () => clip(tag, MAX_CHANGE_LINE_CHARS));
  } else if (previous) {
    const before = new Set(previous.tags);
    const now = new Set(tags.map((tag) => clip(tag, MAX_TAG_CHARS)));
    for (const tag of now) {
      if (!before.has(tag)) collector.add("tag", "added", () => clip(tag, MAX_CHANGE_LINE_CHARS));
    }
    // A cut snapshot cannot tell a removed tag from one it did not keep.
    if (!previous.tags_cut) {
      for (const tag of before) {
        if (!now.has(tag)) {
          collector.add("tag", "removed", () => clip(tag, MAX_CHANGE_LINE_CHARS));
        }
      }
    }
  }
  return {
    basis: unknown ? "unknown" : first ? "first-publication" : "since-last-publication",
    ...(first || since === undefined ? {} : { since: new Date(since * 1_000).toISOString() }),
    added_known: first || previous !== null,
    tags_compared: first || previous !== null,
    attributes: collector.counts.attribute,
    objects: collector.counts.object,
    tags: collector.counts.tag,
    lines: collector.lines,
  };
}

const NOUNS: Record<ChangeKind, [string, string]> = {
  attribute: ["attribute", "attributes"],
  object: ["object", "objects"],
  tag: ["tag", "tags"],
};

/**
 * The summary as short lines for cards and pages: a headline, then per kind a count line
 * (`+812 attributes (first 10 shown)`) followed by its shown items (`+ ip-dst 203.0.113.5`).
 */
export function describePublicationChanges(
  changes: PublicationChanges,
  options: { values?: boolean } = {},
): string[] {
  const out: string[] = [
    changes.basis === "first-publication"
      ? "First publication: everything below goes out"
      : changes.basis === "unknown"
      ? "MISP sent no usable publish_timestamp: the whole event is listed"
      : `Changed since the last publication (${
        changes.since?.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC")
      })`,
  ];
  const counts: Record<ChangeKind, ChangeCount> = {
    attribute: changes.attributes,
    object: changes.objects,
    tag: changes.tags,
  };
  const sign: Record<ChangeOp, string> = { added: "+", changed: "~", removed: "-" };
  let any = false;
  for (const kind of ["attribute", "object", "tag"] as const) {
    const count = counts[kind];
    const total = count.added + count.changed + count.removed;
    if (total === 0) continue;
    any = true;
    const shown = changes.lines.filter((line) => line.kind === kind);
    const parts = (["added", "changed", "removed"] as const)
      .filter((op) => count[op] > 0)
      .map((op) => {
        const noun = NOUNS[kind][count[op] === 1 ? 0 : 1];
        const label = op === "changed" && !changes.added_known ? "new or changed" : op;
        return `${sign[op]}${count[op]} ${noun} ${label}`;
      });
    const more = shown.length < total ? ` (first ${shown.length} shown)` : "";
    out.push(`${parts.join(", ")}${options.values === false ? "" : more}`);
    if (options.values !== false) {
      for (const line of shown) out.push(`  ${sign[line.op]} ${line.text}`);
    }
  }
  if (!any) out.push("No attribute, object or tag changed");
  if (!changes.tags_compared) {
    out.push("Event tags not compared: no earlier approved publication of this event");
  }
  return out;
}
