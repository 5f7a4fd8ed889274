import assert from "node:assert/strict";
import { offlineServices } from "../../modules/offline_services.ts";
import { createAppContext } from "../../services/context.ts";
import { loadConfig } from "../../services/config.ts";
import { acceptIntake } from "../../services/intake.ts";
import type { IntakePayload } from "../../services/queue.ts";
import { getIntakePayload } from "../../store/intake.ts";
import { KEY_WORKFLOWS_REVISION } from "../../store/keys.ts";
import { createWorkflow, listEnabledWorkflows } from "../../store/workflows.ts";
import { makeWorkflow } from "../store/fixtures.ts";

const SAVE = { actor: "api:admin", sourceFormat: "yaml" } as const;
const TRIGGER = "event-after-save";

function contextOn(kv: Deno.Kv) {
  return createAppContext({
    kv,
    config: loadConfig((name) => ({ FLOWGATE_ADMIN_TOKEN: "a".repeat(32) })[name]),
    services: offlineServices(),
    proxy: null,
  });
}

/** `kv` with its reads of the workflows' revision counter counted. */
function countRevisionReads(kv: Deno.Kv): { reads: number } {
  const counted = { reads: 0 };
  const get = kv.get.bind(kv);
  kv.get = ((...args: Parameters<Deno.Kv["get"]>) => {
    if (args[0][0] === KEY_WORKFLOWS_REVISION) counted.reads++;
    return get(...args);
  }) as Deno.Kv["get"];
  return counted;
}

Deno.test("acceptIntake() runs the workflows enabled at its commit, though its cache missed a change made elsewhere", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-intake-revision-" });
  try {
    using server = await Deno.openKv(`${dir}/flowgate.kv`);
    using other = await Deno.openKv(`${dir}/flowgate.kv`);
    const ctx = contextOn(server);
    const first = await createWorkflow(
      server,
      makeWorkflow({ name: "first", trigger: TRIGGER }),
      SAVE,
    );
    const counted = countRevisionReads(server);
    const data = { Event: { uuid: "5f0c2a51-0000-4000-8000-000000000001", timestamp: "1" } };

    // The cache is loaded once; the next intake commits without reading the revision.
    await listEnabledWorkflows(server, TRIGGER);
    const reads = counted.reads;
    const cachedOnly = await acceptIntake(ctx, TRIGGER, data, { actor: { kind: "misp" } });
    assert.equal(cachedOnly.runIds.length, 1);
    assert.equal(counted.reads, reads, "an intake on a current cache reads no revision");

    // Another process (handle) enables a second workflow; this process's cache does not know.
    const second = await createWorkflow(
      other,
      makeWorkflow({ name: "second", trigger: TRIGGER }),
      SAVE,
    );
    const changed = { Event: { ...data.Event, timestamp: "2" } };
    const result = await acceptIntake(ctx, TRIGGER, changed, { actor: { kind: "misp" } });
    assert.equal(result.duplicate, false);
    assert.equal(result.runIds.length, 2, "both workflows enabled at the commit get a run");
    const payload = await getIntakePayload(server, result.intakeId) as IntakePayload;
    assert.deepEqual(
      payload.workflows.map((entry) => entry.id).sort(),
      [first.id, second.id].sort(),
    );
    assert.deepEqual(payload.workflows.map((entry) => entry.run_id), result.runIds);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
