/**
 * MISP's Action service: `GET /modules` lists one misp-modules action module per trigger (plus
 * the action modules of `FLOWGATE_MISP_MODULES_URL`), `POST /query` runs a trigger's workflows and
 * answers MISP's shapes (reference §5).
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { log } from "../../engine/log.ts";
import type { JsonObject, RunActor } from "../../engine/model.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import type { TriggerDefinition } from "../../triggers/trigger.ts";
import { MODULE_NAME_PREFIX, moduleNameOf } from "../../triggers/misp_module_name.ts";
import { mispAllowlist } from "../auth.ts";
import { BodyTimeoutError, BodyTooLargeError, releaseBuffer } from "../body.ts";
import { readBodyInBudget } from "../body_in_budget.ts";
import { sha256HexOffThread } from "../../store/chunks.ts";
import { BudgetWaitTimeoutError, ByteBudget } from "../../services/byte_budget.ts";
import { processMemory } from "../../services/idle_memory_release.ts";
import { keepAnswerWhole } from "../body_guard.ts";
import { bodyLimitsOf } from "../body_limits.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { acceptIntake } from "../../services/intake.ts";
import {
  decideVerdict,
  type Verdict,
  verdictBody,
  type VerdictContext,
  VerdictUnavailableError,
} from "../../services/verdict.ts";
import { decideVerdictOffThread } from "../../services/verdict_off_thread.ts";
import type { VerdictWorkers } from "../../services/verdict_workers.ts";
import { withNodeContext } from "../../services/query_input.ts";

export { MODULE_NAME_PREFIX, moduleNameOf } from "../../triggers/misp_module_name.ts";

/**
 * The misp-modules descriptor MISP parses for one trigger (reference §5.2 to §5.4): lowercase
 * ASCII name so MISP's id equals it, `meta.module-type: ["action"]`, the config under both
 * `meta.config` (what MISP reads) and `mispattributes.config`.
 */
export function moduleDescriptorOf(trigger: TriggerDefinition): Record<string, unknown> {
  const descriptor = trigger.descriptor;
  const config = {
    params: {},
    blocking: descriptor.blocking,
    support_filters: false,
    expect_misp_core_format: descriptor.misp_core_format,
  };
  return {
    name: moduleNameOf(descriptor.id),
    type: "action_mod",
    mispattributes: { config },
    meta: {
      name: `Flowgate: ${descriptor.name}`,
      description: `Runs the Flowgate workflows of trigger "${descriptor.id}"` +
        (descriptor.blocking ? " and blocks when one of them blocks" : " in the background"),
      "module-type": ["action"],
      version: "1.0",
      author: "Flowgate",
      config,
    },
  };
}

/** The trigger id behind a Flowgate module name, or undefined. */
export function triggerOfModule(name: string): TriggerDefinition | undefined {
  if (!name.startsWith(MODULE_NAME_PREFIX)) return undefined;
  return TRIGGERS.find((trigger) => moduleNameOf(trigger.descriptor.id) === name);
}

/** What `/modules` and `/query` use: configuration, proxy, metrics, what verdicts and intakes need. */
export type MispModulesContext =
  & Pick<AppContext, "config" | "proxy" | "metrics">
  & VerdictContext
  & Parameters<typeof acceptIntake>[0];

/**
 * Bytes of `/query` bodies parsed and decided on at once (until the verdict; the runs are stored
 * after). A 10,000-attribute event (4.6 MB of JSON) holds about 30 MB of memory while it is
 * decided on: fifty at once once peaked at 2.8 GiB. Two 1,000-attribute events fit, one per
 * verdict Worker; a 10,000-attribute one is decided alone (two at once on two Workers gave 21%
 * more at c=50 but raised the peak from 338-366 to 470-494 MiB). Requests past the budget queue
 * (they are never refused, which MISP would take as an allow).
 */
export const QUERY_BYTES_IN_FLIGHT = 5 * 1_048_576;

/**
 * Bytes of `/query` bodies held in memory at once, from the start of their read to the answer.
 * A body takes its declared `Content-Length` before its first byte is read, so the ones past the
 * budget wait in the kernel's socket buffers instead of the heap (fifty 10,000-attribute events
 * at once held 220 MiB of raw bodies). A body still not in after 100 ms keeps only what it has
 * received (`readBodyInBudget`), so a slow or stalled sender cannot hold the budget the others
 * wait for. A body takes at most half of it, so one cut short never keeps the largest waiting.
 */
export const QUERY_BYTES_READ = 12 * 1_048_576;

/**
 * Smallest verdict input hashed off the JavaScript thread while it is parsed; smaller ones are
 * hashed by the store in microseconds, less than handing them to another thread costs.
 */
const OFF_THREAD_HASH_MIN_BYTES = 65_536;

/**
 * Longest wait for the `/query` byte budgets, from the request's start: MISP gives up on an
 * Action service after 10 s and then allows, so a request still waiting at 8 s is answered a
 * block instead (fail closed).
 */
const QUERY_BUDGET_MAX_WAIT_MS = 8_000;

/** The `/modules` and `/query` routes, limited to `FLOWGATE_MISP_ALLOW`. */
export function mispModulesRoutes(ctx: MispModulesContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const own = TRIGGERS.map(moduleDescriptorOf);
  const ownNames = new Set(own.map((module) => module.name));
  app.use("/modules", mispAllowlist(ctx.config.mispAllow, ctx.config.trustedProxies));
  app.use(
    "/query",
    mispAllowlist(ctx.config.mispAllow, ctx.config.trustedProxies, { refuseAsModuleError: true }),
  );

  app.get("/modules", async (c) => {
    if (!ctx.proxy) return c.json(own);
    const upstream = await ctx.proxy.listActionModules();
    return c.json([...own, ...upstream.filter((module) => !ownNames.has(String(module.name)))]);
  });

  // MISP counts any non-2xx answer, and a dropped connection, as success: an allow. Every failure
  // here is therefore answered 200 with MISP's error shape, which a blocking module turns into a
  // block.
  const limits = bodyLimitsOf(ctx.config).misp;
  const reading = new ByteBudget(QUERY_BYTES_READ);
  const deciding = new ByteBudget(QUERY_BYTES_IN_FLIGHT);
  // `/query` calls between their first byte and their answer, for `FLOWGATE_VERDICT_HANDOVER`.
  let underWay = 0;
  app.post("/query", async (c) => {
    const started = performance.now();
    const waitLeft = () => Math.max(0, QUERY_BUDGET_MAX_WAIT_MS - (performance.now() - started));
    keepAnswerWhole(c);
    const seen: QueryProgress = {};
    // The heap is given back once the process is idle again (see `IdleMemoryRelease`).
    processMemory.begin();
    underWay++;
    // The bodies this request holds are given back once it is answered (see `releaseBuffer`)
    // while other calls are under way. A lone call's are left to the collector: the next body
    // would fault fresh pages in (2.5 ms more for a 10,000-attribute event) where it now reuses
    // these, and one dead body is no load on memory.
    const owned: Uint8Array[] = [];
    const releases: (() => void)[] = [
      () => underWay--,
      () => {
        if (underWay > 0) owned.forEach(releaseBuffer);
      },
    ];
    try {
      const bytes = await readBodyInBudget(c.req.raw, limits, reading, {
        waitLeft,
        releases,
        maxTaken: QUERY_BYTES_READ / 2,
        // A request from the network: its chunks are the reader's alone.
        releaseChunks: true,
      });
      owned.push(bytes);
      const decided = await deciding.acquire(bytes.length, waitLeft());
      releases.push(decided);
      // Queued runs wait while MISP waits for this answer (see `ForegroundPriority`).
      ctx.foreground.begin();
      releases.push(() => ctx.foreground.end());
      const workers = handsOver(ctx, underWay, bytes.length) ? ctx.verdictWorkers : null;
      return await answerQuery(ctx, workers, c, bytes, {
        seen,
        started,
        onDecided: decided,
        owned,
      });
    } catch (error) {
      return c.json({ error: queryFailure(ctx, error, seen, started) });
    } finally {
      for (const release of releases) release();
      processMemory.end();
    }
  });
  return app;
}

/**
 * Whether a `/query` goes to a verdict Worker (`FLOWGATE_VERDICT_HANDOVER`): with `busy`, only
 * when another `/query` is under way and the body is small enough to be decided beside another
 * (half the parse budget). A lone verdict, or one decided alone anyway, is decided sooner here:
 * handing a 4.4 MB event over and its runs back costs about 3 ms.
 */
function handsOver(
  ctx: Pick<MispModulesContext, "config" | "verdictWorkers">,
  underWay: number,
  bytes: number,
): boolean {
  if (!ctx.verdictWorkers?.available) return false;
  if (ctx.config.verdictHandover === "always") return true;
  return underWay > 1 && bytes <= QUERY_BYTES_IN_FLIGHT / 2;
}

/** What `/query` learnt before it failed, for the failure's message, log and metrics. */
interface QueryProgress {
  module?: string;
  trigger?: TriggerDefinition;
}

/** How far one `/query` got, and what it tells of its verdict. */
interface QueryRequest {
  seen: QueryProgress;
  /** A `performance.now()` time: the verdict deadline counts from it. */
  started: number;
  /** Told once the verdict is reached (the parse budget is given back). */
  onDecided: () => void;
  /** The bodies the request holds, released once it is answered: a Worker gives one back. */
  owned: Uint8Array[];
}

/**
 * Answers a `/query` whose body was read: forwarded to misp-modules, taken in (non-blocking
 * triggers), or decided, in one of `workers` when given, else on this thread.
 */
async function answerQuery(
  ctx: MispModulesContext,
  workers: VerdictWorkers | null,
  c: Context<AppEnv>,
  received: Uint8Array<ArrayBuffer>,
  query: QueryRequest,
): Promise<Response> {
  const { seen, started, onDecided } = query;
  const actor = { kind: "misp" as const, id: c.env?.remoteAddr?.hostname };
  // Located once: the Worker takes `data`'s bytes, or this thread parses them.
  const located = workers ? parseQueryEnvelope(received) : undefined;
  const offThread = workers && located
    ? await answerOffThread(ctx, workers, c, received, located, { ...query, actor })
    : received;
  if (offThread instanceof Response) return offThread;
  // What is left is decided on this thread, from the body given back (same bytes, same places).
  const bytes = offThread;
  let request: unknown;
  let dataJson: Uint8Array | undefined;
  let dataHash: Promise<string> | undefined;
  try {
    ({ body: request, dataJson } = parseQueryBody(bytes, {
      ...(located ? { located } : {}),
      // Hashed for the run's stored input on another thread while this one parses.
      onDataBytes: (slice, envelope) => {
        const module = typeof envelope.module === "string" ? envelope.module : "";
        if (slice.length < OFF_THREAD_HASH_MIN_BYTES) return;
        if (!triggerOfModule(module)?.descriptor.blocking) return;
        dataHash = sha256HexOffThread(slice);
        dataHash.catch(() => {});
      },
    }));
  } catch (error) {
    if (isStackOverflow(error)) throw error;
    return c.json({ error: `Request body is not JSON: ${(error as Error).message}` });
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return c.json({ error: 'Request body must be a JSON object with "module" and "data"' });
  }
  const body = request as JsonObject;
  const name = typeof body.module === "string" ? body.module : "";
  seen.module = name;
  const trigger = triggerOfModule(name);
  if (trigger === undefined) {
    if (ctx.proxy && name !== "" && await ctx.proxy.hasModule(name)) {
      const forwarded = await ctx.proxy.query(new TextDecoder().decode(bytes));
      return c.body(forwarded.body, forwarded.status as 200, {
        "Content-Type": "application/json",
      });
    }
    return c.json({ error: `Module "${name}" not found` });
  }
  seen.trigger = trigger;
  const data = body.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return c.json({ error: `Module "${name}": "data" must be a JSON object` });
  }
  const input = withNodeContext(data as JsonObject, body);
  if (!trigger.descriptor.blocking) {
    await acceptIntake(ctx, trigger.descriptor.id, input, {
      actor,
      ...(input === data && dataJson ? { dataJson: new TextDecoder().decode(dataJson) } : {}),
    });
    return c.json({ data: true });
  }
  // The run input is stored as the bytes MISP sent, which spares re-encoding a large event
  // (node context added to the data means re-encoding after all).
  const inputJson = input === data ? dataJson : undefined;
  const verdict = await decideVerdict(ctx, trigger.descriptor.id, input, {
    actor,
    ...(inputJson === undefined ? {} : { inputJson }),
    ...(inputJson === undefined || dataHash === undefined ? {} : { inputJsonHash: dataHash }),
    onDecided,
  });
  return answerVerdict(c, verdict, started);
}

/**
 * Answers a blocking trigger's `/query` from a verdict Worker, or gives the body back for this
 * thread to decide: another module's call, bytes at `data`'s place that are not one JSON value
 * (the whole body is parsed then), or workflows that need this thread's services.
 */
async function answerOffThread(
  ctx: MispModulesContext,
  workers: VerdictWorkers,
  c: Context<AppEnv>,
  bytes: Uint8Array<ArrayBuffer>,
  located: LocatedQueryBody,
  request: QueryRequest & { actor: RunActor },
): Promise<Response | Uint8Array<ArrayBuffer>> {
  const name = typeof located.envelope.module === "string" ? located.envelope.module : "";
  const trigger = triggerOfModule(name);
  if (!trigger?.descriptor.blocking) return bytes;
  request.seen.module = name;
  request.seen.trigger = trigger;
  const outcome = await decideVerdictOffThread(
    ctx,
    workers,
    trigger.descriptor.id,
    {
      body: bytes,
      ...located.dataSpan,
      nodeContext: {
        filteredItems: located.envelope.filteredItems,
        matchingData: located.envelope.matchingData,
      },
    },
    { actor: request.actor, started: request.started, onDecided: request.onDecided },
  );
  request.owned.push(outcome.body);
  if (outcome.kind === "decided") return answerVerdict(c, outcome.verdict, request.started);
  if (outcome.kind === "not-object") {
    return c.json({ error: `Module "${name}": "data" must be a JSON object` });
  }
  return outcome.body;
}

/** MISP's answer to a verdict, with the server-side time from body read to answer. */
function answerVerdict(c: Context<AppEnv>, verdict: Verdict, started: number): Response {
  // For operators and the HTTP benchmark.
  c.header("Server-Timing", `verdict;dur=${(performance.now() - started).toFixed(2)}`);
  return c.json(verdictBody(verdict));
}

/**
 * The `{"error"}` text of a `/query` that failed, logged (error level for our own failures) and
 * counted as a refusal when a blocking trigger was asked.
 */
function queryFailure(
  ctx: Pick<AppContext, "metrics">,
  error: unknown,
  seen: QueryProgress,
  started: number,
): string {
  const module = seen.module ?? "unknown";
  let message: string;
  if (error instanceof BodyTooLargeError || error instanceof BodyTimeoutError) {
    message = error.message;
    log.warn("Query refused", { module, error: error.message });
  } else if (error instanceof BudgetWaitTimeoutError) {
    message = `Flowgate is overloaded: ${error.message}; refused to be safe`;
    log.warn("Query refused", { module, error: error.message });
  } else if (isStackOverflow(error)) {
    message = `Module "${module}": request nested too deeply to decide on; refused`;
    log.warn("Query refused", { module, error: String(error) });
  } else {
    message = error instanceof VerdictUnavailableError
      ? error.message
      : `Module "${module}": Flowgate failed while deciding (see the Flowgate log); refused ` +
        "to be safe";
    log.error("Query failed: answered MISP with an error, which blocks on blocking triggers", {
      module,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
  if (seen.trigger?.descriptor.blocking) {
    ctx.metrics.recordVerdict(seen.trigger.descriptor.id, false, performance.now() - started);
  }
  return message;
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /Maximum call stack size exceeded/i.test(error.message);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const BOM = [0xef, 0xbb, 0xbf];

/** Bytes after the wanted member that `jsonMemberSpan` scans back over before guessing. */
const MAX_TRAILING_SCAN_BYTES = 16_384;

/** A `/query` body parsed, with the exact bytes of its `data` member when they were found. */
export interface ParsedQueryBody {
  body: unknown;
  dataJson?: Uint8Array<ArrayBuffer>;
}

/** Options of `parseQueryBody`. */
export interface ParseQueryBodyOptions {
  /**
   * Told the bytes guessed to be `data`'s, with the rest of the body parsed (`data` still
   * `null`), before `data` is parsed, so work on the bytes can start meanwhile; they are
   * `dataJson` when the answer has one.
   */
  onDataBytes?: (dataJson: Uint8Array<ArrayBuffer>, envelope: Record<string, unknown>) => void;
  /** What `parseQueryEnvelope` found in these bytes, when the caller already asked it. */
  located?: LocatedQueryBody;
}

/** A `/query` body's members but `data` parsed, and where the bytes of `data` lie. */
export interface LocatedQueryBody {
  /** The body with `data` still `null`. */
  envelope: Record<string, unknown>;
  /** Where `data`'s bytes likely start and end: a guess until they parse as one JSON value. */
  dataSpan: { dataStart: number; dataEnd: number };
}

/**
 * Parses the members of a `/query` body around `data`, leaving `data`'s bytes unparsed, so they
 * can be parsed elsewhere (another thread) or later. Undefined when the body has no `data`
 * member found this way, or is not a JSON object around it: `parseQueryBody` then parses it
 * whole.
 */
export function parseQueryEnvelope(bytes: Uint8Array<ArrayBuffer>): LocatedQueryBody | undefined {
  const span = jsonMemberSpan(bytes, "data");
  if (span === undefined) return undefined;
  const decoder = new TextDecoder();
  try {
    const envelope: unknown = JSON.parse(
      decoder.decode(bytes.subarray(0, span.start)) + "null" +
        decoder.decode(bytes.subarray(span.end)),
    );
    if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
      return undefined;
    }
    return {
      envelope: envelope as Record<string, unknown>,
      dataSpan: { dataStart: span.start, dataEnd: span.end },
    };
  } catch {
    return undefined;
  }
}

/**
 * Parses a `/query` body as `JSON.parse` would, and keeps the bytes of its `data` member so the
 * run input is stored without re-encoding. `data` and the rest of the body are parsed apart
 * (`parseQueryEnvelope`): parsing the slice is what proves it is exactly one JSON value (a wrong
 * guess at its end fails to parse and falls back to parsing the whole body). Throws `SyntaxError`
 * when not JSON.
 */
export function parseQueryBody(
  bytes: Uint8Array<ArrayBuffer>,
  options: ParseQueryBodyOptions = {},
): ParsedQueryBody {
  const located = options.located ?? parseQueryEnvelope(bytes);
  if (located !== undefined) {
    const { envelope, dataSpan } = located;
    const dataJson = bytes.subarray(dataSpan.dataStart, dataSpan.dataEnd);
    try {
      options.onDataBytes?.(dataJson, envelope);
      envelope.data = JSON.parse(new TextDecoder().decode(dataJson));
      return { body: envelope, dataJson };
    } catch {
      // Not the value guessed: the whole body decides below.
    }
  }
  return { body: JSON.parse(new TextDecoder().decode(bytes)) };
}

/**
 * Where the value of top-level member `name` of the JSON object in `bytes` likely lies (the last
 * such member when the name repeats, as `JSON.parse` keeps). Only the members before it and
 * after it are scanned, forward from the start and back from the end, so the cost does not grow
 * with the value: when more than 16 KiB follows the first `name` member, the span is a guess
 * that stops where the scan gave up, to be checked by parsing it. Undefined when there is no
 * such member or the text is not an object.
 */
export function jsonMemberSpan(
  bytes: Uint8Array,
  name: string,
): { start: number; end: number } | undefined {
  let i = BOM.every((byte, k) => bytes[k] === byte) ? BOM.length : 0;
  i = skipSpace(bytes, i);
  if (bytes[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(bytes, i + 1);
  let start = -1;
  while (bytes[i] === QUOTE) {
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd < 0) return undefined;
    const isName = keyText(bytes, i, keyEnd) === name;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return undefined;
    i = skipSpace(bytes, i + 1);
    if (isName) {
      start = i;
      break;
    }
    i = valueEnd(bytes, i);
    if (i < 0) return undefined;
    i = skipSpace(bytes, i);
    if (bytes[i] === COMMA) i = skipSpace(bytes, i + 1);
  }
  if (start < 0) return undefined;
  // Back from the closing brace, member by member, to the value that starts at `start` or to
  // a later member of the same name.
  const floor = Math.max(start, bytes.length - MAX_TRAILING_SCAN_BYTES);
  let j = skipSpaceBack(bytes, bytes.length - 1);
  if (bytes[j] !== CLOSE_OBJECT) return undefined;
  for (;;) {
    const end = skipSpaceBack(bytes, j - 1) + 1;
    const valueStart = valueStartBack(bytes, end, floor);
    // Too far back to scan: guess that this value is the one found forward.
    if (valueStart < 0 || valueStart === start) return { start, end };
    const colon = skipSpaceBack(bytes, valueStart - 1);
    if (bytes[colon] !== COLON) return undefined;
    const keyLast = skipSpaceBack(bytes, colon - 1);
    if (bytes[keyLast] !== QUOTE) return undefined;
    const keyStart = stringStartBack(bytes, keyLast, floor);
    if (keyStart < 0) return undefined;
    if (keyText(bytes, keyStart, keyLast + 1) === name) return { start: valueStart, end };
    j = skipSpaceBack(bytes, keyStart - 1);
    if (bytes[j] !== COMMA) return undefined;
  }
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

/** The index of the last non-space byte at or before `i`. */
function skipSpaceBack(bytes: Uint8Array, i: number): number {
  while (i >= 0 && isSpace(bytes[i])) i--;
  return i;
}

/** The key a JSON string spells, unescaped only when it holds an escape. */
function keyText(bytes: Uint8Array, start: number, end: number): string {
  const text = new TextDecoder().decode(bytes.subarray(start, end));
  return text.includes("\\") ? JSON.parse(text) : text.slice(1, -1);
}

/** The index after the string whose opening quote is at `i`, or -1. */
function stringEnd(bytes: Uint8Array, i: number): number {
  for (let k = i + 1; k < bytes.length; k++) {
    const byte = bytes[k];
    if (byte === QUOTE) return k + 1;
    if (byte === BACKSLASH) k++;
  }
  return -1;
}

/** The index after the value that starts at `i`, or -1. */
function valueEnd(bytes: Uint8Array, i: number): number {
  const first = bytes[i];
  if (first === QUOTE) return stringEnd(bytes, i);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let k = i; k < bytes.length; k++) {
      const byte = bytes[k];
      if (byte === QUOTE) {
        k = stringEnd(bytes, k) - 1;
        if (k < 0) return -1;
      } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
        depth++;
      } else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --depth === 0) {
        return k + 1;
      }
    }
    return -1;
  }
  let k = i;
  while (k < bytes.length && !isScalarEnd(bytes[k])) k++;
  return k;
}

function isScalarEnd(byte: number | undefined): boolean {
  return byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || isSpace(byte);
}

/**
 * The index of the opening quote of the string whose closing quote is at `last`: the nearest
 * quote before it preceded by an even number of backslashes. -1 below `floor`.
 */
function stringStartBack(bytes: Uint8Array, last: number, floor: number): number {
  for (let k = last - 1; k >= floor; k--) {
    if (bytes[k] !== QUOTE) continue;
    let slashes = 0;
    while (bytes[k - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return k;
  }
  return -1;
}

/** The index where the value ending just before `end` starts; -1 when that is below `floor`. */
function valueStartBack(bytes: Uint8Array, end: number, floor: number): number {
  const last = end - 1;
  const byte = bytes[last];
  if (byte === QUOTE) return stringStartBack(bytes, last, floor);
  if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
    let depth = 0;
    for (let k = last; k >= floor; k--) {
      const current = bytes[k];
      if (current === QUOTE) {
        k = stringStartBack(bytes, k, floor);
        if (k < 0) return -1;
      } else if (current === CLOSE_OBJECT || current === CLOSE_ARRAY) {
        depth++;
      } else if ((current === OPEN_OBJECT || current === OPEN_ARRAY) && --depth === 0) {
        return k;
      }
    }
    return -1;
  }
  let k = last;
  while (k > floor && !isScalarStart(bytes[k - 1])) k--;
  return k >= floor ? k : -1;
}

function isScalarStart(byte: number | undefined): boolean {
  return byte === COLON || byte === COMMA || byte === OPEN_ARRAY || isSpace(byte);
}
