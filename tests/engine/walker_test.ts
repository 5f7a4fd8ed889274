import assert from "node:assert/strict";
import { walkGraph, type WalkOptions } from "../../engine/walker.ts";
import type { Workflow } from "../../engine/model.ts";
import { MAX_NODE_EXECUTIONS, MAX_WALK_DEPTH } from "../../engine/limits.ts";
import { TransientError } from "../../engine/module_errors.ts";
import type { WorkflowModule } from "../../engine/module.ts";
import { concurrentTask } from "../../modules/logic/concurrent_task.ts";
import { genericFilterData } from "../../modules/logic/generic_filter_data.ts";
import { genericFilterReset } from "../../modules/logic/generic_filter_reset.ts";
import { stopExecution } from "../../modules/action/stop_execution.ts";
import {
  eventWith,
  fakeAction,
  fakeIf,
  lookupOf,
  node,
  testServices,
  workflowOf,
} from "./fake_modules.ts";

/** Trigger `t` → IF `if` (module `decide`) → action `yes` on then, action `no` on else (both `act`). */
function branchWorkflow(): Workflow {
  return workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["if"]]),
    node("if", "decide", "logic", [["yes"], ["no"]]),
    node("yes", "act", "action", [[]]),
    node("no", "act", "action", [[]]),
  ]);
}

function options(
  modules: WorkflowModule[],
  extra: Partial<WalkOptions> = {},
): WalkOptions {
  return {
    forPath: "blocking",
    data: eventWith(),
    modules: lookupOf(...modules),
    services: testServices(),
    ...extra,
  };
}

Deno.test("walkGraph() walks depth-first pre-order, outputs and connections in order, no joins", async () => {
  const log: string[] = [];
  const act = fakeAction("act", log);
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["a", "b"]]),
    node("a", "act", "action", [["c"]]),
    node("b", "act", "action", [["c"]]),
    node("c", "act", "action", [[]]),
  ]);
  const result = await walkGraph(workflow, "t", options([act]));
  assert.deepEqual(log, ["a", "c", "b", "c"]);
  assert.equal(result.success, true);
  assert.deepEqual(result.executed_nodes, ["a", "c", "b", "c"]);
  assert.deepEqual(result.trace.map((entry) => entry.node_id), ["t", "a", "c", "b", "c"]);
  assert.deepEqual(result.trace[2]?.path, ["t:output_1:0:a", "a:output_1:0:c"]);
  assert.deepEqual(result.trace[4]?.path, ["t:output_1:1:b", "b:output_1:0:c"]);
  assert.deepEqual(result.trace.map((entry) => entry.seq), [0, 1, 2, 3, 4]);
});

Deno.test("walkGraph() runs an action before its descendants see its setData", async () => {
  const log: string[] = [];
  const seen: unknown[] = [];
  const enrich = fakeAction("enrich", log, {
    run: (context) => context.roaming.setData({ ...context.roaming.getData(), enriched: true }),
  });
  const read = fakeAction("read", log, {
    run: (context) => seen.push(context.roaming.getData().enriched),
  });
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["e"]]),
    node("e", "enrich", "action", [["r"]]),
    node("r", "read", "action", [[]]),
  ]);
  await walkGraph(workflow, "t", options([enrich, read]));
  assert.deepEqual(seen, [true]);
});

Deno.test("walkGraph() follows then or else after a logic node and records the branch", async (t) => {
  for (
    const [answer, expected, branch] of [[true, "yes", "then"], [false, "no", "else"]] as const
  ) {
    await t.step(`exec returns ${answer}`, async () => {
      const log: string[] = [];
      const workflow = branchWorkflow();
      const result = await walkGraph(
        workflow,
        "t",
        options([fakeIf("decide", log, () => answer), fakeAction("act", log)]),
      );
      assert.deepEqual(log, ["if", expected]);
      const entry = result.trace.find((item) => item.node_id === "if");
      assert.equal(entry?.branch, branch);
      assert.equal(entry?.result, answer);
      assert.deepEqual(result.executed_nodes, [expected], "logic nodes are not executed_nodes");
      assert.deepEqual(result.errors, []);
    });
  }
  await t.step("a false logic module without output_2 ends the path", async () => {
    const log: string[] = [];
    const workflow = workflowOf("event-publish", [
      node("t", "event-publish", "trigger", [["if"]]),
      node("if", "decide", "logic", [["yes"]]),
      node("yes", "act", "action", [[]]),
    ]);
    const result = await walkGraph(
      workflow,
      "t",
      options([fakeIf("decide", log, () => false), fakeAction("act", log)]),
    );
    assert.deepEqual(log, ["if"]);
    assert.equal(result.success, true);
  });
});

Deno.test("walkGraph() applies the failure matrix of reference §6.5", async (t) => {
  const graph = (failing: string): Workflow =>
    workflowOf("event-publish", [
      node("t", "event-publish", "trigger", [["f", "sibling"]]),
      node("f", failing, "action", [["child"]]),
      node("child", "act", "action", [["if"]]),
      node("if", "decide", "logic", [["grandchild"], []]),
      node("grandchild", "act", "action", [[]]),
      node("sibling", "act", "action", [[]]),
    ]);

  await t.step("non-blocking action failing on a blocking path: children still run", async () => {
    const log: string[] = [];
    const modules = [
      fakeAction("fail", log, { ok: false, errors: ["boom"] }),
      fakeAction("act", log),
      fakeIf("decide", log, () => true),
    ];
    const result = await walkGraph(graph("fail"), "t", options(modules));
    assert.deepEqual(log, ["f", "child", "if", "grandchild", "sibling"]);
    assert.equal(result.success, true);
    assert.deepEqual(result.blocking_nodes, ["f"]);
    assert.deepEqual(result.errors, [
      "Node `fail` (f) from Workflow `test-flow` (test-flow) returned the following error: boom",
    ]);
  });

  await t.step(
    "non-blocking action failing on a non-blocking path: subtree actions skipped, logic still evaluated",
    async () => {
      const log: string[] = [];
      const modules = [
        fakeAction("fail", log, { ok: false, errors: ["boom"] }),
        fakeAction("act", log),
        fakeIf("decide", log, () => true),
      ];
      const result = await walkGraph(
        graph("fail"),
        "t",
        options(modules, { forPath: "non-blocking" }),
      );
      assert.deepEqual(log, ["f", "if", "sibling"]);
      assert.equal(result.success, true);
      assert.deepEqual(result.blocked_paths, [
        ["t:output_1:0:f", "f:output_1:0:child"],
        ["t:output_1:0:f", "f:output_1:0:child", "child:output_1:0:if", "if:output_1:0:grandchild"],
      ]);
      const skipped = result.trace.filter((entry) => entry.status === "skipped");
      assert.deepEqual(skipped.map((entry) => entry.node_id), ["child", "grandchild"]);
      assert.match(skipped[0]?.note ?? "", /action node "f" above it failed/);
    },
  );

  for (const forPath of ["blocking", "non-blocking"] as const) {
    await t.step(`blocking action failing aborts the whole ${forPath} walk`, async () => {
      const log: string[] = [];
      const modules = [
        fakeAction("veto", log, { ok: false, blocking: true, errors: ["no"] }),
        fakeAction("act", log),
        fakeIf("decide", log, () => true),
      ];
      const result = await walkGraph(graph("veto"), "t", options(modules, { forPath }));
      assert.deepEqual(log, ["f"]);
      assert.equal(result.success, false);
      assert.equal(result.deciding_node_id, "f");
      assert.equal(result.abort_kind, "returned-false");
    });
  }

  await t.step("missing module: a non-blocking action failure", async () => {
    const log: string[] = [];
    const modules = [fakeAction("act", log), fakeIf("decide", log, () => true)];
    const result = await walkGraph(graph("nowhere"), "t", options(modules));
    assert.deepEqual(log, ["child", "if", "grandchild", "sibling"]);
    assert.equal(result.success, true);
    assert.deepEqual(result.trace.find((entry) => entry.node_id === "f")?.errors, [
      "Could not load class for module: nowhere",
    ]);
  });

  await t.step("thrown errors are caught with MISP's message", async () => {
    const log: string[] = [];
    const modules = [
      fakeAction("crash", log, { throws: new RangeError("kaput") }),
      fakeAction("act", log),
      fakeIf("decide", log, () => true),
    ];
    const result = await walkGraph(graph("crash"), "t", options(modules));
    const entry = result.trace.find((item) => item.node_id === "f");
    assert.equal(entry?.status, "failure");
    assert.deepEqual(entry?.errors, ["Error while executing module crash. Error: kaput"]);
    assert.deepEqual(result.retries, [], "only TransientError is retried");
  });

  await t.step("a TransientError from a non-blocking action yields an ActionRetry", async () => {
    const log: string[] = [];
    const modules = [
      fakeAction("flaky", log, { throws: new TransientError("503 from webhook") }),
      fakeAction("act", log),
      fakeIf("decide", log, () => true),
    ];
    const result = await walkGraph(graph("flaky"), "t", options(modules));
    assert.equal(result.retries.length, 1);
    assert.equal(result.retries[0]?.node_id, "f");
    assert.equal(result.retries[0]?.error, "503 from webhook");
    assert.deepEqual(result.retries[0]?.data, eventWith());
  });

  await t.step("a logic module that throws takes output_2 without a run error", async () => {
    const log: string[] = [];
    const modules = [
      fakeAction("act", log),
      {
        ...fakeIf("decide", log, () => true),
        exec: () => {
          throw new TypeError("bad data");
        },
      },
    ];
    const workflow = branchWorkflow();
    const result = await walkGraph(workflow, "t", options(modules));
    assert.deepEqual(log, ["no"]);
    assert.deepEqual(result.errors, []);
    const entry = result.trace.find((item) => item.node_id === "if");
    assert.equal(entry?.status, "failure");
    assert.equal(entry?.branch, "else");
  });
});

Deno.test("walkGraph() treats disabled modules as MISP does", async (t) => {
  await t.step("a disabled IF takes output_2", async () => {
    const log: string[] = [];
    const workflow = branchWorkflow();
    const result = await walkGraph(
      workflow,
      "t",
      options([fakeIf("decide", log, () => true), fakeAction("act", log)], {
        isDisabled: (id) => id === "decide",
      }),
    );
    assert.deepEqual(log, ["no"]);
    assert.deepEqual(result.trace.find((entry) => entry.node_id === "if")?.errors, [
      "Could not execute disabled module `decide`.",
    ]);
  });
  await t.step("a disabled blocking module aborts the walk", async () => {
    const log: string[] = [];
    const workflow = workflowOf("event-publish", [
      node("t", "event-publish", "trigger", [["stop", "after"]]),
      node("stop", "stop-execution", "action", []),
      node("after", "act", "action", [[]]),
    ]);
    const result = await walkGraph(
      workflow,
      "t",
      options([stopExecution, fakeAction("act", log)], {
        isDisabled: (id) => id === "stop-execution",
      }),
    );
    assert.equal(result.success, false);
    assert.deepEqual(log, []);
    assert.equal(result.abort_kind, "disabled");
    assert.match(result.errors[0] ?? "", /Could not execute disabled module `stop-execution`\.$/);
  });
});

Deno.test("walkGraph() defers one sub-walk per concurrent-task connection and runs nothing inline", async () => {
  const log: string[] = [];
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["filter"]]),
    node("filter", "generic-filter-data", "logic", [["fork"]], {
      selector: "Event.Tag.{n}",
      operator: "equals",
      value: "tlp:red",
      hash_path: "name",
    }),
    node("fork", "concurrent-task", "logic", [["x", "y"]]),
    node("x", "act", "action", [[]]),
    node("y", "act", "action", [[]]),
  ]);
  const result = await walkGraph(
    workflow,
    "t",
    options([genericFilterData, concurrentTask, fakeAction("act", log)], {
      data: eventWith(["tlp:red", "tlp:green"]),
    }),
  );
  assert.deepEqual(log, []);
  assert.equal(result.success, true);
  assert.deepEqual(result.deferred.map((walk) => walk.start_node_id), ["x", "y"]);
  assert.deepEqual(result.deferred.map((walk) => walk.from_node_id), ["fork", "fork"]);
  for (const walk of result.deferred) {
    const event = walk.data.Event as { Tag: unknown[] };
    assert.deepEqual(event.Tag, [{ name: "tlp:red" }], "snapshot has the filters applied");
    assert.ok(walk.data.enabledFilters, "enabledFilters travels with the snapshot");
    assert.ok(walk.data._unfilteredData, "_unfilteredData travels with the snapshot");
    assert.equal("__node_id_to_exec" in walk.data, false);
  }
  const fork = result.trace.find((entry) => entry.node_id === "fork");
  assert.equal(fork?.branch, "none");
  assert.match(fork?.note ?? "", /Deferred 2 sub-walk/);
});

Deno.test("walkGraph() ignores the result of filter modules and continues on output_1", async () => {
  const log: string[] = [];
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["reset"]]),
    node("reset", "generic-filter-reset", "logic", [["after"]], { "filtering-label": "A" }),
    node("after", "act", "action", [[]]),
  ]);
  const result = await walkGraph(
    workflow,
    "t",
    options([genericFilterReset, fakeAction("act", log)]),
  );
  assert.deepEqual(log, ["after"]);
  const reset = result.trace.find((entry) => entry.node_id === "reset");
  assert.equal(reset?.status, "failure", "a label reset without a filter fails (PHP TypeError)");
  assert.equal(reset?.branch, "next");
});

Deno.test("walkGraph() starts a sub-walk at an action node and runs it first", async () => {
  const log: string[] = [];
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["fork"]]),
    node("fork", "concurrent-task", "logic", [["x"]]),
    node("x", "act", "action", [["y"]]),
    node("y", "act", "action", [[]]),
  ]);
  const result = await walkGraph(
    workflow,
    "x",
    options([concurrentTask, fakeAction("act", log)], { forPath: "non-blocking" }),
  );
  assert.deepEqual(log, ["x", "y"]);
  assert.deepEqual(result.trace.map((entry) => entry.node_id), ["x", "y"]);
});

Deno.test("walkGraph() redacts secrets from trace errors, notes and actions", async () => {
  const log: string[] = [];
  const leaky = fakeAction("leaky", log, {
    ok: false,
    extra: {
      params: [{ id: "token", label: "Token", type: "input", secret: true }],
    },
    run: (context) => {
      context.errors.push(`Refused token ${String(context.params.token)} (key SERVICE-KEY-1)`);
      context.record({
        kind: "http",
        dry: true,
        summary: `POST https://example.test/?token=${String(context.params.token)}`,
        details: { header: `Bearer ${String(context.params.token)}` },
      });
    },
  });
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["n"]]),
    node("n", "leaky", "action", [[]], { token: "s3cr3t-token" }),
  ]);
  const result = await walkGraph(
    workflow,
    "t",
    options([leaky], { services: testServices(["SERVICE-KEY-1"]) }),
  );
  const text = JSON.stringify(result.trace) + JSON.stringify(result.errors);
  assert.equal(text.includes("s3cr3t-token"), false);
  assert.equal(text.includes("SERVICE-KEY-1"), false);
  assert.match(text, /Refused token \[redacted\]/);
  assert.equal(result.trace[1]?.actions?.[0]?.details?.header, "Bearer [redacted]");
});

Deno.test("walkGraph() stops at its limits", async (t) => {
  await t.step(`more than ${MAX_NODE_EXECUTIONS} node executions`, async () => {
    const nodes = [node("t", "event-publish", "trigger", [["n0"]])];
    const layers = 15;
    for (let index = 0; index < layers; index++) {
      const next = index + 1 < layers ? [`n${index + 1}`, `n${index + 1}`] : [];
      nodes.push(node(`n${index}`, "act", "action", [next]));
    }
    const result = await walkGraph(
      workflowOf("event-publish", nodes),
      "t",
      options([fakeAction("act", [])]),
    );
    assert.equal(result.success, false);
    assert.equal(result.abort_kind, "limit");
    assert.match(result.errors.at(-1) ?? "", /more than 10000 node executions/);
  });
  await t.step(`paths deeper than ${MAX_WALK_DEPTH} edges`, async () => {
    const nodes = [node("t", "event-publish", "trigger", [["n0"]])];
    for (let index = 0; index <= MAX_WALK_DEPTH; index++) {
      nodes.push(node(`n${index}`, "pass", "logic", [[`n${index + 1}`]]));
    }
    nodes.push(node(`n${MAX_WALK_DEPTH + 1}`, "pass", "logic", [[]]));
    const result = await walkGraph(
      workflowOf("event-publish", nodes),
      "t",
      options([fakeIf("pass", [], () => true)]),
    );
    assert.equal(result.success, false);
    assert.match(result.errors[0] ?? "", /deeper than 1000 edges/);
  });
  await t.step("an aborted signal stops the walk before the next node", async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const workflow = workflowOf("event-publish", [
      node("t", "event-publish", "trigger", [["a"]]),
      node("a", "act", "action", [["b"]]),
      node("b", "act", "action", [[]]),
    ]);
    const act = fakeAction("act", log, { run: () => controller.abort(new Error("deadline")) });
    const result = await walkGraph(workflow, "t", options([act], { signal: controller.signal }));
    assert.deepEqual(log, ["a"]);
    assert.equal(result.success, false);
    assert.equal(result.abort_kind, "aborted");
    assert.match(result.errors[0] ?? "", /Run aborted before node "b": deadline/);
  });
});

Deno.test("walkGraph() skips an edge already on the current path", async () => {
  const log: string[] = [];
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["a"]]),
    node("a", "act", "action", [["b"]]),
    node("b", "act", "action", [["a"]]),
  ]);
  const result = await walkGraph(workflow, "t", options([fakeAction("act", log)]));
  assert.deepEqual(log, ["a", "b", "a"]);
  assert.equal(result.success, true);
});

Deno.test("walkGraph() turns data PHP would crash on into failures, never a rejection", async (t) => {
  const data = {
    Event: { Tag: ["tlp:red", "tlp:green"] },
    enabledFilters: { A: { selector: "Event.Tag", path: "name", operator: "in", value: "x" } },
  };
  await t.step("inside a module: each node fails and an IF takes output_2", async () => {
    const log: string[] = [];
    const workflow = branchWorkflow();
    const modules = [
      fakeIf("decide", log, (context) => context.roaming.getData() !== null),
      fakeAction("act", log),
    ];
    const result = await walkGraph(workflow, "t", options(modules, { data }));
    assert.deepEqual(log, [], "every node fails before its exec");
    assert.deepEqual(
      result.trace.map((entry) => [entry.node_id, entry.status]),
      [["t", "success"], ["if", "failure"], ["no", "failure"]],
    );
    assert.match(
      result.trace.find((entry) => entry.node_id === "if")?.errors[0] ?? "",
      /^Error while executing module decide\. Error: /,
    );
  });
  await t.step("in the walker itself: the walk fails with the reason", async () => {
    const workflow = workflowOf("event-publish", [
      node("t", "event-publish", "trigger", [["fork"]]),
      node("fork", "concurrent-task", "logic", [["x"]]),
      node("x", "act", "action", [[]]),
    ]);
    const result = await walkGraph(
      workflow,
      "t",
      options([concurrentTask, fakeAction("act", [])], { data }),
    );
    assert.equal(result.success, false);
    assert.equal(result.abort_kind, "threw");
    assert.match(result.errors[0] ?? "", /^Walk stopped by an internal error: /);
  });
});
