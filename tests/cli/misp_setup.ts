/**
 * A MISP to connect for the `misp:connect` / `misp:check` tests: the fake MISP, a stand-in of
 * Flowgate's Action service answering `/modules` with Flowgate's real descriptors, and a KV file
 * with two enabled workflows (event-publish, enrichment-before-query) and one disabled
 * (event-after-save-new-from-pull).
 *
 * @module
 */

import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { createMispClient } from "../../modules/action/lib/misp_client.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { moduleDescriptorOf } from "../../server/routes/misp_modules.ts";
import { createMispAdminApi, type MispAdminApi } from "../../services/misp_admin_api.ts";
import type { ActionServiceAddress } from "../../services/misp_connect.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { type FakeMisp, type FakeMispOptions, startFakeMisp } from "../fakes/misp_server.ts";
import { userEventPublishGraph } from "../fixtures/misp_user_graph.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url);

/** The triggers the setup's KV has enabled workflows for, in catalogue order. */
export const WIRED_TRIGGERS = ["event-publish", "enrichment-before-query"];

/** A running setup; `await using` stops everything and removes the KV. */
export interface MispSetup extends AsyncDisposable {
  misp: FakeMisp;
  /** The admin API over the fake, without retries. */
  admin: MispAdminApi;
  kv: Deno.Kv;
  kvPath: string;
  /** Where the Action service listens (what MISP must be pointed at). */
  address: ActionServiceAddress;
  /** `http://127.0.0.1:<port>`. */
  flowgateUrl: string;
}

/** Options of `startMispSetup`. */
export interface MispSetupOptions extends FakeMispOptions {
  /** Start the Action service stand-in (default true); false: nothing listens at `address`. */
  actionService?: boolean;
}

/** Starts the fake MISP, the Action service and a KV file with the example workflows. */
export async function startMispSetup(options: MispSetupOptions = {}): Promise<MispSetup> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-misp-connect-" });
  const kvPath = `${dir}/flowgate.kv`;
  const kv = await Deno.openKv(kvPath);
  for (
    const [file, enabled] of [
      ["block-tlp-red-publication.yaml", true],
      ["block-enrichment-tlp-red-pap-red.yaml", true],
      ["email-admins-on-pulled-event.yaml", false],
    ] as const
  ) {
    const workflow = parseWorkflowYaml(await Deno.readTextFile(new URL(file, EXAMPLES)), {
      catalog: MODULE_CATALOG,
    });
    workflow.enabled = enabled;
    await createWorkflow(kv, workflow, { actor: "test", sourceFormat: "yaml" });
  }
  const descriptors = TRIGGERS.map(moduleDescriptorOf);
  const service = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/modules"
        ? Response.json(descriptors)
        : new Response("Not found", { status: 404 }),
  );
  const port = service.addr.port;
  if (options.actionService === false) await service.shutdown();
  const misp = await startFakeMisp(options);
  const admin = createMispAdminApi(
    createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
  );
  return {
    misp,
    admin,
    kv,
    kvPath,
    address: { url: "http://127.0.0.1", port },
    flowgateUrl: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      if (options.actionService !== false) await service.shutdown();
      await misp.close();
      kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** MISP's event-publish workflow with the user's own nodes (see `userEventPublishGraph`). */
export function userEventPublishWorkflow(): FakeMispOptions["workflows"] & object {
  return [{
    id: "1",
    uuid: "0b6c7a5e-1111-4a2b-9c3d-000000000001",
    name: "Workflow for trigger event-publish",
    trigger_id: "event-publish",
    timestamp: "1700000000",
    data: userEventPublishGraph(),
  }];
}
