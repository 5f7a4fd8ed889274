/**
 * Adversarial: template bombs in a blocking workflow's message (`center`/`indent` to hundreds of
 * millions of characters, `range(1e9)`, a string or list doubled in a `namespace()`, a
 * catastrophic regex). Each must
 * end in a block or failure answer (HTTP 200 with an error, never allow) within the verdict
 * deadline, and the server must live on. They run in a real Flowgate process: a bomb that goes
 * off in `createApp` would take the whole `deno test` process (every test file) down with it.
 */

import assert from "node:assert/strict";
import { type FlowgateProcess, startFlowgate } from "../fixtures/flowgate_process.ts";
import {
  describeAnswer,
  queryBlockProblem,
  queryBody,
  readAnswer,
  readRssBytes,
  tlpRedEvent,
} from "./harness.ts";

const ADMIN_TOKEN = "adversarial-admin-token-0123456789";
const VERDICT_TIMEOUT_MS = 1_000;
/** What an answer may take beyond the verdict deadline on a slow CI machine. */
const GRACE_MS = 2_500;
/** Past this the request is abandoned: the server is frozen or gone. */
const ABANDON_MS = VERDICT_TIMEOUT_MS + GRACE_MS + 3_000;
const MIB = 1_048_576;
/** Most one render may add to the server's resident memory (center(2e7) added 630 MB). */
const RSS_BUDGET_BYTES = 150 * MIB;
/** The server's heap: a bomb that allocates gigabytes dies fast instead of swapping the host. */
const SERVER_V8_FLAGS = "--max-old-space-size=1024";

/**
 * The bombs, as MISP's workflow editor would let anyone type them into a message. `refusal`, when
 * given, is the error the render must stop with: the bomb must reach the limit, not fail early.
 */
const BOMBS: { label: string; template: string; refusal?: RegExp }[] = [
  { label: "center(400000000)", template: "{{ 'x' | center(400000000) }}" },
  { label: "center(2e7)", template: "{{ 'x' | center(20000000) }}" },
  { label: "indent(400000000)", template: "{{ 'x\\ny\\nz' | indent(400000000) }}" },
  { label: "indent(1e9)", template: "{{ 'x\\ny' | indent(1000000000, true) }}" },
  { label: "range(1e9) loop", template: "{% for i in range(1000000000) %}x{% endfor %}" },
  { label: "range(1e9) joined", template: "{{ range(1000000000) | join(',') }}" },
  {
    // A `{% set %}` in a loop is local to the iteration (Jinja2): a namespace carries the string.
    label: "namespace() doubling",
    template:
      "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    refusal: /The "~" operator would build \d+ characters, more than the limit of \d+/,
  },
  {
    label: "namespace() list + list doubling",
    template:
      "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
    refusal: /The "\+" operator would build a list of \d+ items, more than the limit of \d+/,
  },
  {
    label: "nested loops",
    template:
      "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
  },
  {
    label: "replace with r/^(a+)+$/ on 'a'*27+'!'",
    template: "{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaa!' | replace(r/^(a+)+$/, 'b') }}",
  },
];

/** The README's gate with `message` set to `template` (a YAML block scalar: no escaping). */
function bombWorkflow(name: string, template: string): string {
  return `
name: ${name}
description: A tlp:red gate whose message is a template bomb
trigger: event-publish
enabled: true
on_timeout: block
start: tlp-red
nodes:
  tlp-red:
    module: tag-if
    params: { scope: event, condition: in_or, tags: [tlp:red] }
    then: stop
  stop:
    module: stop-execution
    params:
      message: |-
        ${template}
`;
}

/** One Flowgate process, restarted when a bomb kills it. */
class BombRange implements AsyncDisposable {
  readonly #dir: string;
  #process: FlowgateProcess | undefined;
  #pid = 0;
  #starts = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The running process, started (on a fresh KV) if there is none. */
  async server(): Promise<{ process: FlowgateProcess; pid: number }> {
    if (this.#process === undefined) {
      this.#starts++;
      const kvPath = `${this.#dir}/flowgate-${this.#starts}.kv`;
      this.#process = await startFlowgate({
        kvPath,
        adminToken: ADMIN_TOKEN,
        env: {
          FLOWGATE_VERDICT_TIMEOUT_MS: String(VERDICT_TIMEOUT_MS),
          DENO_V8_FLAGS: SERVER_V8_FLAGS,
        },
      });
      this.#pid = this.#process.pid;
    }
    return { process: this.#process, pid: this.#pid };
  }

  /** Forgets (and kills) the process so the next bomb gets a fresh one. */
  async replace(): Promise<void> {
    await this.#process?.kill9();
    this.#process = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.replace();
    await Deno.remove(this.#dir, { recursive: true });
  }
}

async function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  return await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(5_000) });
}

/** True when `/healthz` answers 200 within 2 s. */
async function isAlive(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

Deno.test({
  name: "template bombs in a blocking message block or fail in time, and the server lives on",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using range = new BombRange(await Deno.makeTempDir({ prefix: "flowgate-bombs-" }));
    const event = await tlpRedEvent();

    for (const [index, { label, template, refusal }] of BOMBS.entries()) {
      await t.step(label, async () => {
        const { process: server, pid } = await range.server();
        const problems: string[] = [];
        const saved = await readAnswer(
          await admin(server.url, "/api/workflows", {
            method: "POST",
            headers: { "Content-Type": "application/yaml" },
            body: bombWorkflow(`bomb-${index}`, template),
          }),
        );
        if (saved.status >= 400 && saved.status < 500) {
          // Refusing the bomb when the workflow is saved is a fine defence too.
          assert.match(saved.text, /"error"/, `${label}: a refused save must say why`);
          return;
        }
        assert.equal(
          saved.status,
          201,
          `${label}: save: ${describeAnswer(saved.status, saved.text)}`,
        );
        const workflowId = JSON.parse(saved.text).workflow.id as string;

        const before = await readRssBytes(pid);
        let peak = before;
        let done = false;
        const sampling = (async () => {
          while (!done) {
            try {
              peak = Math.max(peak, await readRssBytes(pid));
            } catch {
              return; // the process is gone
            }
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        })();
        const started = performance.now();
        let elapsed = 0;
        try {
          const answer = await readAnswer(
            await fetch(`${server.url}/query`, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: queryBody("flowgate_event_publish", event),
              signal: AbortSignal.timeout(ABANDON_MS),
            }),
          );
          elapsed = performance.now() - started;
          const problem = queryBlockProblem(answer);
          if (problem) problems.push(`/query: ${problem}`);
          const error = problem ? "" : String(JSON.parse(answer.text).error);
          if (refusal && !problem && !refusal.test(error)) {
            problems.push(`/query failed, but not at the limit ${refusal}: ${error}`);
          }
          if (elapsed > VERDICT_TIMEOUT_MS + GRACE_MS) {
            problems.push(
              `/query answered after ${elapsed.toFixed(0)} ms, past the ${VERDICT_TIMEOUT_MS} ms ` +
                "verdict deadline (the render ignored it)",
            );
          }
        } catch (error) {
          elapsed = performance.now() - started;
          problems.push(
            `/query got no answer (${(error as Error).name}: ${(error as Error).message}) after ` +
              `${elapsed.toFixed(0)} ms: MISP allows when the Action service is gone`,
          );
        }

        done = true;
        await sampling;
        if (peak - before >= RSS_BUDGET_BYTES) {
          problems.push(
            `the render added ${((peak - before) / MIB).toFixed(0)} MiB to the server's memory ` +
              "(budget 150 MiB): the filter allocated before checking its size",
          );
        }
        if (await isAlive(server.url)) {
          const deleted = await admin(server.url, `/api/workflows/${workflowId}`, {
            method: "DELETE",
          });
          await deleted.body?.cancel();
        } else {
          problems.push("the server no longer answers /healthz (crashed or frozen)");
          await range.replace();
        }
        assert.deepEqual(problems, [], `Template bomb ${label}:\n  ${problems.join("\n  ")}`);
      });
    }
  },
});
