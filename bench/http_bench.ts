/**
 * HTTP benchmark (`deno task bench:http`): starts a real Flowgate process on loopback and a
 * temporary KV, then measures the blocking verdict of a 5-node workflow on events of 1,000 and
 * 10,000 attributes at concurrencies 1, 8 and 32, and durable webhook intake per second. Verdicts
 * run twice: on a few events sent in turn (their inputs are already stored, as for MISP's
 * retries and re-publishes) and on a new event every request (every input is written). Bounded:
 * a fixed number of requests per case, no external target. Prints a table.
 *
 * @module
 */

import { randomEvent } from "../tests/fixtures/random_event.ts";
import { startFlowgate } from "../tests/fixtures/flowgate_process.ts";

const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const HOOK_TOKEN = "bench-hook-token-0123456789abcdef";
const SIZES = [1_000, 10_000];
const CONCURRENCIES = [1, 8, 32];
/** Requests per verdict case (after warm-up), by event size. */
const VERDICT_REQUESTS: Record<number, number> = { 1_000: 600, 10_000: 120 };
const WARMUP_REQUESTS = 20;
/** Different events per size, sent in turn (stored inputs are content-addressed). */
const EVENTS_PER_SIZE = 8;
/** `Event.info` of the generated events, rewritten in place to make every request's body new. */
const INFO_PLACEHOLDER = "bench-event-000000000000";
const INTAKE_REQUESTS = 3_000;
const INTAKE_CONCURRENCY = 32;

/** The engine benchmark's 5-node blocking workflow: every generated event walks all 5 nodes. */
const VERDICT_WORKFLOW = `
name: bench-five-nodes
description: Five-node blocking workflow for the HTTP benchmark
trigger: event-publish
enabled: true
start: tags
nodes:
  tags:
    module: tag-if
    params:
      scope: event_attribute
      condition: in_or
      tags: [tlp:clear, tlp:green, tlp:amber, tlp:amber+strict, tlp:red]
    then: distribution
  distribution:
    module: distribution-if
    params:
      scope: event
      condition: more_restrictive_or_equal_than
      distribution: "3"
    then: ips
  ips:
    module: generic-if
    params:
      operator: any_value
      hash_path: "Event._AttributeFlattened.{n}[type=ip-dst].value"
    then: org
  org:
    module: organisation-if
    params:
      org_type: orgc
      condition: in
      org_id: ["1"]
    then: stop
  stop:
    module: stop-execution
    params:
      message: "Blocked {{ Event.uuid }}"
`;

const INTAKE_WORKFLOW = `
name: bench-intake
description: A small workflow run from the queue for each webhook
trigger: event-after-save
enabled: true
start: red
nodes:
  red:
    module: tag-if
    params:
      scope: event
      condition: in_or
      tags: [tlp:red]
    then: stop
  stop:
    module: stop-execution
`;

const encoder = new TextEncoder();
function print(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function createWorkflow(base: string, yaml: string): Promise<void> {
  const response = await fetch(`${base}/api/workflows`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/yaml" },
    body: yaml,
  });
  if (response.status !== 201) {
    throw new Error(
      `Cannot create the bench workflow: ${response.status} ${await response.text()}`,
    );
  }
  await response.body?.cancel();
}

/** Runs `total` calls of `task` with `concurrency` workers; returns the wall time in ms. */
async function runLoad(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await task(next++);
  }));
  return performance.now() - started;
}

/** Request bodies of one size: the same few in turn, or each one made new. */
interface BodySource {
  label: string;
  /** Size of one body in bytes. */
  bytes: number;
  next(): Uint8Array<ArrayBuffer>;
}

function bodySources(size: number): BodySource[] {
  // Distinct events (seeds), encoded once: the client should cost as little as it can.
  const bodies = Array.from({ length: EVENTS_PER_SIZE }, (_, i) => {
    const data = randomEvent({ attributes: size, tags: 3, seed: 7 + i }) as {
      Event: Record<string, unknown>;
    };
    data.Event.info = INFO_PLACEHOLDER;
    return encoder.encode(JSON.stringify({ module: "flowgate_event_publish", data, params: {} }));
  });
  const marker = encoder.encode(INFO_PLACEHOLDER);
  const markerAt = bodies.map((body) => indexOf(body, marker));
  let repeated = 0;
  let fresh = 0;
  return [
    {
      label: `${EVENTS_PER_SIZE} in turn`,
      bytes: bodies[0]!.length,
      next: () => bodies[repeated++ % bodies.length]!,
    },
    {
      label: "new each",
      bytes: bodies[0]!.length,
      next: () => {
        const i = fresh++ % bodies.length;
        const body = bodies[i]!.slice();
        const digits = encoder.encode(String(fresh).padStart(12, "0"));
        body.set(digits, markerAt[i]! + marker.length - digits.length);
        return body;
      },
    },
  ];
}

function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  for (let at = bytes.indexOf(part[0]!); at >= 0; at = bytes.indexOf(part[0]!, at + 1)) {
    if (part.every((byte, k) => bytes[at + k] === byte)) return at;
  }
  throw new Error("The event placeholder is missing from the request body");
}

async function benchVerdicts(base: string): Promise<void> {
  print("");
  print("Blocking verdict, 5-node workflow (POST /query, loopback)");
  print(
    "| attributes | body | events | concurrency | requests | req/s | server p50 | server p99 | round trip p50 | round trip p99 |",
  );
  print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const size of SIZES) {
    for (const source of bodySources(size)) {
      const send = async (server: number[], trip: number[]) => {
        const body = source.next();
        const started = performance.now();
        const response = await fetch(`${base}/query`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body,
        });
        const answer = await response.json();
        trip.push(performance.now() - started);
        if (typeof answer.error !== "string") {
          throw new Error(`Expected a block, got ${JSON.stringify(answer)}`);
        }
        const timing = /dur=([\d.]+)/.exec(response.headers.get("Server-Timing") ?? "")?.[1];
        server.push(Number(timing));
      };
      await runLoad(WARMUP_REQUESTS, 4, () => send([], []));
      for (const concurrency of CONCURRENCIES) {
        const server: number[] = [];
        const trip: number[] = [];
        const total = VERDICT_REQUESTS[size]!;
        const wall = await runLoad(total, concurrency, () => send(server, trip));
        server.sort((a, b) => a - b);
        trip.sort((a, b) => a - b);
        print(
          `| ${size.toLocaleString("en")} | ${
            (source.bytes / 1_048_576).toFixed(2)
          } MiB | ${source.label} | ${concurrency} | ${total} | ${
            (total / (wall / 1_000)).toFixed(0)
          } | ${percentile(server, 50).toFixed(1)} ms | ${percentile(server, 99).toFixed(1)} ms | ${
            percentile(trip, 50).toFixed(1)
          } ms | ${percentile(trip, 99).toFixed(1)} ms |`,
        );
      }
    }
  }
}

async function benchIntake(base: string): Promise<void> {
  const template = randomEvent({ attributes: 20, tags: 3, seed: 11 }) as {
    Event: Record<string, unknown>;
  };
  const latencies: number[] = [];
  const wall = await runLoad(INTAKE_REQUESTS, INTAKE_CONCURRENCY, async (index) => {
    template.Event.uuid = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
    const started = performance.now();
    const response = await fetch(`${base}/hooks/misp/event-after-save`, {
      method: "POST",
      headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(template),
    });
    await response.body?.cancel();
    if (response.status !== 202) throw new Error(`Intake answered ${response.status}`);
    latencies.push(performance.now() - started);
  });
  latencies.sort((a, b) => a - b);
  print("");
  print("Durable webhook intake (POST /hooks/misp/event-after-save, 20-attribute events)");
  print("| concurrency | webhooks | acknowledged/s | p50 | p99 |");
  print("| --- | --- | --- | --- | --- |");
  print(
    `| ${INTAKE_CONCURRENCY} | ${INTAKE_REQUESTS} | ${
      (INTAKE_REQUESTS / (wall / 1_000)).toFixed(0)
    } | ${percentile(latencies, 50).toFixed(1)} ms | ${percentile(latencies, 99).toFixed(1)} ms |`,
  );
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-bench-" });
  try {
    await using flowgate = await startFlowgate({
      kvPath: `${dir}/flowgate.kv`,
      adminToken: ADMIN_TOKEN,
      hookToken: HOOK_TOKEN,
      env: { FLOWGATE_VERDICT_TIMEOUT_MS: "25000" },
    });
    await createWorkflow(flowgate.url, VERDICT_WORKFLOW);
    await createWorkflow(flowgate.url, INTAKE_WORKFLOW);
    print(
      `Flowgate HTTP benchmark: ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}`,
    );
    await benchVerdicts(flowgate.url);
    await benchIntake(flowgate.url);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// `deno bench bench/` also loads this file: only run when started directly.
if (import.meta.main) await main();
