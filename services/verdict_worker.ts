/**
 * A verdict Worker: parses a `/query` body's `data`, walks the trigger's workflows on it and
 * hashes the input, all off the server's thread, then hands the verdict and the runs back for the
 * server to store (see `verdict_workers.ts`). It has the engine, the modules and the templates,
 * and no service beyond them: a workflow that asks for MISP, mail, a webhook, ZeroMQ, an approval,
 * another workflow or an enrichment lookup makes the Worker decline, and the server decides
 * instead. Since the Worker has
 * none of those services, nothing is sent anywhere before it declines.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { registerSecret } from "../engine/log.ts";
import type { JsonObject } from "../engine/model.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import { renderTemplate } from "../engine/template.ts";
import { ENGINE_LOOKUPS } from "../modules/registry.ts";
import { encodeJson, sha256Hex, sha256HexOffThread } from "../store/chunks.ts";
import { heapCollector, IdleMemoryRelease } from "./idle_memory_release.ts";
import { ancestorsIn } from "./in_flight.ts";
import { withNodeContext } from "./query_input.ts";
import { walkVerdict } from "./verdict.ts";
import type {
  VerdictWorkerAnswer,
  VerdictWorkerMessage,
  VerdictWorkerReady,
  VerdictWorkerRequest,
} from "./verdict_worker_protocol.ts";

/** The services a Worker has itself: templates, the clock, the values to redact. */
type WorkerOwnService = "renderTemplate" | "now" | "secrets";

/**
 * Every other service, each reported when a module asks for it. A service added to
 * `ModuleServices` fails the type check here until it is listed.
 */
const SERVER_ONLY_SERVICES: Record<Exclude<keyof ModuleServices, WorkerOwnService>, true> = {
  outboundFetch: true,
  misp: true,
  mail: true,
  zmq: true,
  approvals: true,
  runWorkflow: true,
  enrichmentInputs: true,
};

/**
 * The Worker's own heap is collected after two idle seconds, before the server's release (three)
 * trims the freed pages back to the system.
 */
const heap = new IdleMemoryRelease({
  idleMs: 2_000,
  minRssBytes: 160 * 1_048_576,
  collect: heapCollector() ?? (() => {}),
});

let secrets: string[] = [];

self.onmessage = async (event: MessageEvent<VerdictWorkerMessage>) => {
  const message = event.data;
  if (message.kind === "setup") {
    secrets = message.secrets;
    // This thread's log has its own list of values to hide.
    for (const secret of secrets) registerSecret(secret);
    return;
  }
  heap.begin();
  try {
    const answer = await decide(message).catch((error): VerdictWorkerAnswer => ({
      kind: "failed",
      id: message.id,
      body: message.body,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }));
    self.postMessage(answer, [answer.body.buffer, ...transferOf(answer)]);
  } finally {
    heap.end();
  }
};

// Every module is loaded once this runs: requests may come.
self.postMessage({ kind: "ready" } satisfies VerdictWorkerReady);

function transferOf(answer: VerdictWorkerAnswer): ArrayBuffer[] {
  return answer.kind === "decided" && answer.inputJson ? [answer.inputJson.buffer] : [];
}

async function decide(request: VerdictWorkerRequest): Promise<VerdictWorkerAnswer> {
  const { id, body } = request;
  const dataJson = body.subarray(request.dataStart, request.dataEnd);
  // Hashed on the runtime's blocking threads while this one parses: the verdict waits for the
  // parse alone.
  const dataHash = sha256HexOffThread(dataJson);
  dataHash.catch(() => {});
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(dataJson));
  } catch {
    return { kind: "unparsed", id, body };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { kind: "not-object", id, body };
  }
  const input = withNodeContext(data as JsonObject, request.nodeContext);
  // The input is stored as the bytes MISP sent, unless node context was added to it.
  const inputJson = input === data ? undefined : encodeJson(input) as Uint8Array<ArrayBuffer>;
  const inputHash = inputJson === undefined ? dataHash : sha256Hex(inputJson);
  inputHash.catch(() => {});
  const asked = new Set<string>();
  const started = performance.now();
  const { verdict, runs } = await walkVerdict(
    { ...ENGINE_LOOKUPS, services: workerServices(asked), now: Date.now, metrics: NO_METRICS },
    request.workflows,
    input,
    {
      actor: request.actor,
      ancestry: ancestorsIn(
        new Map(request.inFlight.map(([fingerprint, ids]) => [fingerprint, new Set(ids)])),
        input,
      ),
      deadline: { at: started + request.remainingMs, timeoutMs: request.timeoutMs },
    },
  );
  if (asked.size > 0) return { kind: "main-thread", id, body };
  return {
    kind: "decided",
    id,
    body,
    verdict,
    runs: runs.map(({ saved, result, followUpTarget }) => ({
      run: saved.run,
      result: { ...result, trace: [] },
      followUps: followUpTarget !== null,
    })),
    ...(inputJson === undefined ? {} : { inputJson }),
    inputHash: await inputHash,
  };
}

/** The server counts the runs it is handed back. */
const NO_METRICS = { recordRun: () => {} };

/**
 * Templates and the clock, and every server-only service as null, each noting in `asked` that a
 * module wanted it.
 */
function workerServices(asked: Set<string>): ModuleServices {
  const services = { renderTemplate, now: Date.now, secrets } as ModuleServices;
  for (const name of Object.keys(SERVER_ONLY_SERVICES)) {
    Object.defineProperty(services, name, {
      enumerable: true,
      get: () => {
        asked.add(name);
        return null;
      },
    });
  }
  return services;
}
