/**
 * What each action module leaves in the roaming data, through the real walker: a workflow
 * `event-publish → <module> → probe` runs on the real sighting_2 event against the fake MISP, and
 * the probe records the data the next node sees. MISP's modules only change it where they call
 * `setData` / `_overrideAttribute` / `reloadRoamingData` (checked in MISP 2.5.1 and the newer
 * module files); everything else, the tag actions included, must leave it as it was.
 */

import assert from "node:assert/strict";
import type { JsonObject, NodeFilters, WorkflowNode } from "../../engine/model.ts";
import type { ModuleContext } from "../../engine/module.ts";
import type {
  OutboundRequest,
  OutboundResponse,
  WorkflowRunner,
} from "../../engine/module_services.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { renderTemplate } from "../../engine/template.ts";
import { createMispClient } from "../../modules/action/lib/misp_client.ts";
import { ENGINE_LOOKUPS, getModule, listModules } from "../../modules/registry.ts";
import { type FakeMisp, type FakeMispOptions, startFakeMisp } from "../fakes/misp_server.ts";
import { fakeAction, node, successfulRun, workflowOf } from "../engine/fake_modules.ts";
import {
  coreFormat,
  COUNTRY_GALAXY,
  sightingEvent,
  vulnerabilityAttribute,
} from "./action/misp_test_context.ts";

const TARGET_ID = "242460";
const TARGET_ONLY: NodeFilters = {
  selector: "Event._AttributeFlattened.{n}",
  value: "target-external",
  operator: "equals",
  path: "type",
};

/** What the module must leave: the data as it was, or what MISP's own module sets. */
type Expectation =
  | "unchanged"
  | "not reached"
  | ((input: JsonObject, misp: FakeMisp) => JsonObject | Promise<JsonObject>);

interface Case {
  module: string;
  /** Variant name when a module has several cases. */
  variant?: string;
  params?: Record<string, unknown>;
  filters?: NodeFilters;
  /** Changes the stored event (MISP's copy and the input alike). */
  stored?: (event: JsonObject) => void;
  /** Changes the input only (what earlier nodes left in the roaming data). */
  input?: (data: JsonObject) => void;
  misp?: Omit<FakeMispOptions, "events">;
  /** A MISP call the module must have made, so the case proves the module acted. */
  calls?: string;
  expect: Expectation;
}

const WARNINGLIST = {
  id: "3",
  name: "Test values",
  type: "string",
  category: "false_positive",
  matching_attributes: ["target-external"],
  enabled: true,
  WarninglistEntry: [{ id: "1", value: "testvalue", comment: null }],
};
const ADMINS = [{
  User: { id: "1", email: "admin@example.org", disabled: false, org_id: "1" },
  Role: { perm_site_admin: true, perm_admin: true },
  Organisation: { id: "1", name: "ORGNAME" },
}];
const MAIL = { mail_template_subject: "{{ Event.info }}", mail_template_body: "Published" };
const GEO_ENRICHMENT = [{
  Object: [{
    name: "geolocation",
    Attribute: [
      { object_relation: "country", value: "Luxembourg" },
      { object_relation: "asn", value: "AS6661" },
    ],
  }],
}];

/** `patch` applied to attribute `id` in every view (MISP's `_overrideAttribute`). */
function withAttribute(data: JsonObject, id: string, patch: JsonObject): JsonObject {
  const copy = structuredClone(data);
  const event = copy.Event as JsonObject;
  const lists = [
    event._AttributeFlattened,
    event.Attribute,
    ...((event.Object as JsonObject[] | undefined) ?? []).map((object) => object.Attribute),
  ];
  for (const list of lists) {
    for (const attribute of (list as JsonObject[] | undefined) ?? []) {
      if (String(attribute.id) === id) Object.assign(attribute, patch);
    }
  }
  return copy;
}

function storedAttribute(misp: FakeMisp, id: string): JsonObject {
  const attributes = misp.event("1")?.Attribute as JsonObject[];
  return attributes.find((attribute) => String(attribute.id) === id) ?? {};
}

/** MISP reloaded the event: the roaming data is its stored copy in core format. */
function reloaded(_input: JsonObject, misp: FakeMisp): JsonObject {
  return coreFormat({ Event: structuredClone(misp.event("1")) });
}

function attributeEdit(patch: JsonObject): Expectation {
  return (input, misp) =>
    withAttribute(input, TARGET_ID, {
      ...patch,
      timestamp: storedAttribute(misp, TARGET_ID).timestamp,
    });
}

const CASES: Case[] = [
  { module: "stop-execution", expect: "not reached" },
  { module: "webhook", params: { url: "https://hooks.example.test/misp" }, expect: "unchanged" },
  {
    module: "ms-teams-webhook",
    params: { url: "https://teams.example.test/hook" },
    expect: "unchanged",
  },
  {
    module: "telegram-send-alert",
    params: { bot_token: "123:secret", chat_id: "42" },
    expect: "unchanged",
  },
  {
    module: "splunk-hec-export",
    params: { url: "https://splunk.example.test/services/collector", hec_token: "secret" },
    expect: "unchanged",
  },
  { module: "push-zmq", expect: "unchanged" },
  { module: "send-mail", params: MAIL, misp: { users: ADMINS }, expect: "unchanged" },
  { module: "send-log-mail", params: MAIL, misp: { users: ADMINS }, expect: "unchanged" },
  { module: "slack", params: { slack_bot_token: "xoxb-1", channel_id: "C1" }, expect: "unchanged" },
  {
    module: "mattermost",
    params: { mattermost_hostname: "chat.example.test", bot_access_token: "t", channel_id: "c" },
    expect: "unchanged",
  },
  {
    module: "flowintel-create-case",
    params: { url: "https://flowintel.example.test", apikey: "k", "create-reference": "no" },
    expect: "unchanged",
  },
  {
    module: "tag_cve_from_enrichment",
    stored: (event) => {
      (event.Attribute as JsonObject[]).push({
        ...vulnerabilityAttribute(),
        timestamp: "1550467205",
      });
    },
    // MISP's `_addTag` mirrors the attached tags on the attribute; the comment edit overrides it.
    calls: "/attributes/edit/300",
    expect: (input, misp) => {
      const tags = ["CVSS:unknown", 'misp:threat-level="unknown-risk"'].map((name) => ({
        name,
        local: true,
      }));
      const attribute = ((input.Event as JsonObject)._AttributeFlattened as JsonObject[])
        .find((item) => item.id === "300") as JsonObject;
      return withAttribute(input, "300", {
        Tag: [...(attribute.Tag as JsonObject[]), ...tags],
        _allTags: [
          ...(attribute._allTags as JsonObject[]),
          ...tags.map((tag) => ({ ...tag, inherited: false })),
        ],
        comment: "CVE Summary: Log4Shell",
        timestamp: storedAttribute(misp, "300").timestamp,
      });
    },
  },
  {
    module: "add_analyst_data",
    params: { note: "Checked by a workflow" },
    calls: "/analyst_data/add",
    expect: "unchanged",
  },
  { module: "add_eventblocklist_entry", calls: "/eventBlocklists/add", expect: "unchanged" },
  {
    module: "add_to_warninglist",
    params: { warninglist: "3" },
    misp: { warninglists: [WARNINGLIST] },
    calls: "/warninglists/",
    expect: "unchanged",
  },
  {
    module: "assign_country",
    input: (data) => {
      const flattened = (data.Event as JsonObject)._AttributeFlattened as JsonObject[];
      (flattened[1] as JsonObject).enrichment = [[{ types: ["text"], values: ["Luxembourg"] }]];
    },
    misp: { galaxies: [COUNTRY_GALAXY] },
    calls: "/tags/attachTagToObject",
    expect: "unchanged",
  },
  {
    module: "attach-decay-score",
    params: { decayingmodels: ["1"] },
    filters: TARGET_ONLY,
    // `_overrideAttribute` with MISP's scored copy, which replaces the attribute wholesale.
    expect: async (input, misp) => {
      const client = createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true });
      const answer = await client.request<{ response: { Attribute: JsonObject[] } }>(
        "POST",
        "/attributes/restSearch",
        {
          returnFormat: "json",
          uuid: "5c764091-273c-4821-92ad-0e1a0a00020f",
          includeDecayScore: 1,
          decayingModel: ["1"],
        },
      );
      const scored = answer.response.Attribute[0] as JsonObject;
      const copy = structuredClone(input);
      const event = copy.Event as JsonObject;
      (event._AttributeFlattened as JsonObject[])[1] = scored;
      (event.Attribute as JsonObject[])[1] = scored;
      return copy;
    },
  },
  {
    module: "attach-enrichment",
    params: { modules: ["geo"] },
    filters: TARGET_ONLY,
    misp: { enrichment: () => ({ results: [{ types: ["text"], values: ["LU"] }] }) },
    expect: (input) =>
      withAttribute(input, TARGET_ID, { enrichment: [[{ types: ["text"], values: ["LU"] }]] }),
  },
  {
    module: "attach-warninglist",
    misp: { warninglists: [WARNINGLIST] },
    expect: (input) => {
      const copy = withAttribute(input, TARGET_ID, {
        warnings: [{
          value: "testvalue",
          match: "testvalue",
          warninglist_id: "3",
          warninglist_name: "Test values",
          warninglist_category: "false_positive",
        }],
      });
      (copy.Event as JsonObject).warnings = [
        { id: "3", name: "Test values", category: "false_positive" },
      ];
      return copy;
    },
  },
  {
    module: "Module_attribute_comment_operation",
    params: { comment: "Seen by the workflow" },
    filters: TARGET_ONLY,
    calls: "/attributes/edit/",
    expect: attributeEdit({ comment: "Seen by the workflow" }),
  },
  {
    module: "attribute_distribution_operation",
    params: { distribution: "1" },
    filters: TARGET_ONLY,
    expect: attributeEdit({ distribution: "1" }),
  },
  { module: "attribute_edition_operation", expect: "unchanged" },
  {
    module: "attribute_ids_flag_operation",
    params: { action: "remove" },
    filters: TARGET_ONLY,
    calls: "/attributes/edit/",
    expect: attributeEdit({ to_ids: false }),
  },
  { module: "enrich-event", params: { modules: "dns" }, expect: reloaded },
  {
    module: "Module_event_distribution_operation",
    params: { distribution: "0" },
    expect: (input, misp) => {
      const copy = structuredClone(input);
      Object.assign(copy.Event as JsonObject, {
        distribution: "0",
        published: false,
        timestamp: misp.event("1")?.timestamp,
      });
      return copy;
    },
  },
  { module: "proposal-action", expect: "unchanged" },
  { module: "publish-event", calls: "/events/publish/", expect: "unchanged" },
  {
    module: "reload-full-event",
    input: (data) => {
      (data.Event as JsonObject).info = "A stale copy: MISP's stored event replaces it";
    },
    expect: reloaded,
  },
  { module: "run-workflow", params: { workflows: ["other"] }, expect: reloaded },
  {
    module: "tag_country_asn_from_enrichment",
    input: (data) => {
      const flattened = (data.Event as JsonObject)._AttributeFlattened as JsonObject[];
      (flattened[1] as JsonObject).enrichment = GEO_ENRICHMENT;
    },
    // MISP's `_addTag` on the attribute, in every view of it.
    calls: "/tags/attachTagToObject",
    expect: (input) => {
      const tags = ['country:"LUXEMBOURG"', 'asn_number:"6661"'].map((name) => ({
        name,
        local: true,
      }));
      const attribute = ((input.Event as JsonObject)._AttributeFlattened as JsonObject[])[1];
      return withAttribute(input, TARGET_ID, {
        Tag: [...((attribute?.Tag as JsonObject[]) ?? []), ...tags],
        _allTags: [
          ...((attribute?._allTags as JsonObject[]) ?? []),
          ...tags.map((tag) => ({ ...tag, inherited: false })),
        ],
      });
    },
  },
  {
    module: "tag_operation",
    variant: "add on the event",
    params: { scope: "event", action: "add", tags: ["tlp:amber"] },
    calls: "/tags/attachTagToObject",
    expect: "unchanged",
  },
  {
    module: "tag_operation",
    variant: "remove from an attribute",
    params: {
      scope: "attribute",
      action: "remove",
      locality: "global",
      tags: ['misp-galaxy:botnet="Asprox"'],
    },
    calls: "/tags/removeTagFromObject",
    expect: "unchanged",
  },
  { module: "tag_replacement_generic", params: { scope: "all" }, expect: "unchanged" },
  {
    module: "tag_replacement_tlp",
    params: { scope: "all", remove_substituted: "yes" },
    stored: (event) => {
      (event.Tag as JsonObject[]).push({ id: "8", name: "TLP:RED", local: false });
    },
    calls: "/tags/removeTagFromObject",
    expect: "unchanged",
  },
  {
    module: "tag_replacement_pap",
    params: { scope: "attribute", remove_substituted: "yes" },
    stored: (event) => {
      const [comment] = event.Attribute as JsonObject[];
      (comment as JsonObject).Tag = [{ id: "9", name: "pap=red", local: false }];
    },
    calls: "/tags/attachTagToObject",
    expect: "unchanged",
  },
  { module: "require-approval", expect: "unchanged" },
];

function stubResponse(body: unknown, status = 200): OutboundResponse {
  return {
    status,
    headers: new Headers({ "content-type": "application/json" }),
    body: JSON.stringify(body),
    truncated: false,
  };
}

/** Answers every outbound call as the remote service would on success. */
function outboundStub(request: OutboundRequest): Promise<OutboundResponse> {
  const url = request.url;
  if (url.includes("/api/cve/")) {
    return Promise.resolve(stubResponse({
      cveMetadata: { cveId: "CVE-2021-44228" },
      containers: { cna: { descriptions: [{ lang: "en", value: "Log4Shell" }] } },
    }));
  }
  if (url.includes("/api/case/")) return Promise.resolve(stubResponse({ id: 7, uuid: "c-7" }));
  if (url.includes("/services/collector")) {
    return Promise.resolve(stubResponse({ text: "Success", code: 0 }));
  }
  if (url.includes("/api/v4/posts")) return Promise.resolve(stubResponse({ id: "p1" }, 201));
  return Promise.resolve(stubResponse({ ok: true, result: {} }));
}

const noRun: WorkflowRunner = () => Promise.resolve(successfulRun());

async function runCase(testCase: Case) {
  const stored = await sightingEvent();
  testCase.stored?.(stored.Event as JsonObject);
  await using misp = await startFakeMisp({ events: [stored], ...testCase.misp });
  const input = coreFormat(structuredClone(stored));
  testCase.input?.(input);
  const before = structuredClone(input);
  const moduleNode: WorkflowNode = {
    id: "2",
    module: testCase.module,
    kind: "action",
    params: testCase.params ?? {},
    next: [["3"]],
    ...(testCase.filters ? { filters: testCase.filters } : {}),
  };
  const workflow = workflowOf("event-publish", [
    node("1", "event-publish", "trigger", [["2"]]),
    moduleNode,
    node("3", "probe", "action", [[]]),
  ], "roaming-data");
  const seen: JsonObject[] = [];
  // A probe after the module records the data the next node sees.
  const probe = fakeAction("probe", [], {
    run: (context) => seen.push(structuredClone(context.roaming.getData())),
  });
  const result = await runWorkflow(workflow, input, {
    ...ENGINE_LOOKUPS,
    modules: { getModule: (id) => id === "probe" ? probe : getModule(id) },
    services: {
      outboundFetch: outboundStub,
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
      mail: { send: () => Promise.resolve({ messageId: "m1" }) },
      zmq: { publish: () => Promise.resolve() },
      renderTemplate,
      now: () => 0,
      secrets: [misp.apiKey],
      approvals: {
        consumeGrant: () => Promise.resolve("approval-1"),
        peekGrant: () => Promise.resolve("approval-1"),
        requestApproval: () => Promise.reject(new Error("no approval should be opened")),
      } as unknown as NonNullable<ModuleContext["services"]["approvals"]>,
      runWorkflow: noRun,
    },
  });
  const paths = misp.requests.map((request) => request.path);
  if (testCase.calls) {
    assert.ok(paths.some((path) => path.startsWith(testCase.calls!)), JSON.stringify(paths));
  }
  const expected = typeof testCase.expect === "function"
    ? await testCase.expect(before, misp)
    : before;
  return { result, seen, expected };
}

Deno.test("every action module is covered by the roaming-data table", () => {
  const covered = new Set(CASES.map((testCase) => testCase.module));
  const missing = listModules("action").map((module) => module.descriptor.id)
    .filter((id) => !covered.has(id));
  assert.deepEqual(missing, []);
});

Deno.test("walkGraph() leaves the roaming data as MISP's module does, for each action", async (t) => {
  for (const testCase of CASES) {
    const name = testCase.variant ? `${testCase.module} (${testCase.variant})` : testCase.module;
    await t.step(name, async () => {
      const { result, seen, expected } = await runCase(testCase);
      const moduleEntry = result.trace.find((entry) => entry.node_id === "2");
      if (testCase.expect === "not reached") {
        assert.equal(result.outcome, "blocked");
        assert.deepEqual(seen, []);
        return;
      }
      assert.equal(moduleEntry?.status, "success", JSON.stringify(result.errors));
      assert.equal(seen.length, 1, "the node after the module ran");
      assert.deepEqual(seen[0], expected);
    });
  }
});

Deno.test("tag_replacement_tlp does not make a later tag-if block: MISP allows the TLP:RED event", async () => {
  const stored = await sightingEvent();
  const event = stored.Event as JsonObject;
  event.Tag = [...(event.Tag as JsonObject[]), { id: "8", name: "TLP:RED", local: false }];
  await using misp = await startFakeMisp({ events: [stored] });
  const workflow = workflowOf("event-publish", [
    node("1", "event-publish", "trigger", [["2"]]),
    node("2", "tag_replacement_tlp", "action", [["3"]], {
      scope: "event",
      remove_substituted: "yes",
    }),
    node("3", "tag-if", "logic", [["4"], []], {
      scope: "event",
      condition: "in_or",
      tags: ["tlp:red"],
    }),
    node("4", "stop-execution", "action", [[]]),
  ], "tlp-red-after-replacement");
  const result = await runWorkflow(workflow, stored, {
    ...ENGINE_LOOKUPS,
    services: {
      outboundFetch: null,
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
      mail: null,
      zmq: null,
      renderTemplate,
      now: () => 0,
      secrets: [misp.apiKey],
    },
  });
  assert.equal(result.outcome, "success", JSON.stringify(result.errors));
  assert.deepEqual(
    result.trace.map((entry) => [entry.module, entry.status]),
    [["event-publish", "success"], ["tag_replacement_tlp", "success"], ["tag-if", "success"]],
  );
  assert.equal(result.trace[2]?.branch, "else");
  // MISP's database has the replacement; only the roaming data kept the tags it started with.
  const names = (misp.event("1")?.Tag as JsonObject[]).map((tag) => tag.name);
  assert.deepEqual(names, ['misp-galaxy:botnet="Asprox"', "tlp:red"]);
});
