import assert from "node:assert/strict";
import { MAX_DATA_DEPTH } from "../../engine/limits.ts";
import type { JsonObject } from "../../engine/model.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { toCoreFormat } from "../../triggers/core_format.ts";
import { assertDataDepth } from "../../triggers/json_shape.ts";
import { NormalizationError } from "../../triggers/normalize.ts";
import { RED_GATE_YAML } from "../bot/chat_harness.ts";
import { realEvent, startTestApp } from "../server/test_app.ts";

const DEEP = 10_000;
const NESTING = new RegExp(`nested deeper than the limit of ${MAX_DATA_DEPTH} levels`);

/** `{"a": {"a": … "x" …}}`, `levels` objects deep. */
function deepObject(levels: number): unknown {
  let value: unknown = "x";
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

/** `[[… "x" …]]`, `levels` lists deep. */
function deepList(levels: number): unknown {
  let value: unknown = "x";
  for (let level = 0; level < levels; level++) value = [value];
  return value;
}

/** Payloads nested 10,000 levels in the places MISP data can hold anything. */
async function deepPayloads(): Promise<[string, JsonObject][]> {
  const inInfo = { Event: { info: "x", a: deepObject(DEEP) } };
  const inValue = await realEvent({ tlpRed: true }) as { Event: { Attribute: JsonObject[] } };
  inValue.Event.Attribute[0]!.value = deepList(DEEP) as never;
  const inCore = { Event: { info: "x", _AttributeFlattened: [], a: deepList(DEEP) } };
  const inRows = {
    Event: { id: "1", info: "x" },
    Tag: { id: "1", name: "tlp:red", event_id: "1", attribute_id: "0" },
    Sighting: { id: "1", event_id: "1" },
    ShadowAttribute: { id: "1", event_id: "1", old_id: "0" },
    EventReport: { id: "1", event_id: "1" },
    Note: { object_type: "Event", object_uuid: "u", note: deepObject(DEEP) },
    Post: { id: "1", contents: deepObject(DEEP) },
  };
  return [
    ["an object under Event", inInfo as JsonObject],
    ["lists in an attribute value", inValue as unknown as JsonObject],
    ["data already in core format", inCore as JsonObject],
    ["the trigger's own row", inRows as JsonObject],
  ];
}

function assertNestingError(fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof NormalizationError, `expected NormalizationError, got ${error}`);
    assert.match(error.message, NESTING);
    return true;
  });
}

Deno.test("every trigger's normalisation refuses 10,000-level data with a NormalizationError naming the limit", async (t) => {
  for (const [name, payload] of await deepPayloads()) {
    await t.step(name, () => {
      for (const trigger of TRIGGERS) {
        assertNestingError(() => trigger.normalize(payload));
        // The entry condition reads the raw data too: it must answer, not overflow.
        try {
          trigger.accepts(payload, {});
        } catch (error) {
          assert.ok(!(error instanceof RangeError), `${trigger.descriptor.id}: ${error}`);
        }
      }
    });
  }
});

Deno.test("toCoreFormat() and assertDataDepth() refuse 10,000-level data and accept MAX_DATA_DEPTH", async (t) => {
  await t.step("10,000 levels", () => {
    assertNestingError(() => toCoreFormat({ Event: { info: "x", a: deepObject(DEEP) } }));
    assertNestingError(() => assertDataDepth(deepList(DEEP), "event-publish"));
  });
  await t.step("exactly the limit passes, one more level does not", () => {
    // The top object and `Event` are two levels.
    const fits = { Event: { info: "x", a: deepObject(MAX_DATA_DEPTH - 2) } };
    assert.ok(Array.isArray((toCoreFormat(fits).Event as JsonObject)._AttributeFlattened));
    assertNestingError(() =>
      toCoreFormat({ Event: { info: "x", a: deepObject(MAX_DATA_DEPTH - 1) } })
    );
  });
  await t.step("a real event is not affected", async () => {
    const normalized = TRIGGERS[0]!.normalize(await realEvent({ tlpRed: true }));
    assert.ok(Array.isArray((normalized.Event as JsonObject)._AttributeFlattened));
  });
});

Deno.test("/query with a tlp:red event nested 10,000 levels is blocked naming the limit, not allowed or a 5xx", async () => {
  await using test = await startTestApp();
  const created = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: RED_GATE_YAML,
  });
  assert.equal(created.status, 201);
  const red = await realEvent() as { Event: { Tag?: JsonObject[] } };
  red.Event.Tag = [...(red.Event.Tag ?? []), { id: "9001", name: "tlp:red", exportable: true }];
  const event = JSON.stringify(red);
  const deep = '{"a":'.repeat(DEEP) + '"x"' + "}".repeat(DEEP);
  const data = event.replace('"info":', `"deep":${deep},"info":`);
  const response = await test.request("/query", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: `{"module":"flowgate_event_publish","params":{},"data":${data}}`,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
  const body = await response.json();
  assert.notDeepEqual(body, { data: true });
  assert.match(body.error, NESTING);
});
