/**
 * The messages between the server and its verdict Workers (`verdict_workers.ts` sends,
 * `verdict_worker.ts` answers). Everything crosses by structured clone, except the request body,
 * whose buffer is transferred there and back without a copy.
 *
 * @module
 */

import type { RunActor, RunResult } from "../engine/model.ts";
import type { RunRecord, StoredWorkflow } from "../store/types.ts";
import type { InFlightSnapshot } from "./in_flight.ts";
import type { QueryNodeContext } from "./query_input.ts";
import type { Verdict } from "./verdict.ts";

/** Sent once, first: what every run of the Worker needs from the configuration. */
export interface VerdictWorkerSetup {
  kind: "setup";
  /** Values redacted from traces (`configSecrets`). */
  secrets: string[];
}

/** A verdict to reach: the `/query` body and where its `data` member lies in it. */
export interface VerdictWorkerRequest {
  kind: "decide";
  /** Matches the answer to the request. */
  id: number;
  /** The whole request body; its buffer is transferred, and comes back with the answer. */
  body: Uint8Array<ArrayBuffer>;
  /** Where the bytes of `data` start and end in `body` (a guess, proved by parsing them). */
  dataStart: number;
  dataEnd: number;
  /** The body's node context, kept in the run input (`withNodeContext`). */
  nodeContext: QueryNodeContext;
  /** The trigger's enabled workflows, in order. */
  workflows: StoredWorkflow[];
  actor: RunActor;
  /** Milliseconds left until the verdict deadline, when the request was sent. */
  remainingMs: number;
  /** The verdict budget (`verdictTimeoutMs`), named in the timeout message. */
  timeoutMs: number;
  /** The server's in-flight queue runs, for the re-entrancy guard (`InFlightRuns.snapshot`). */
  inFlight: InFlightSnapshot;
}

/** A run walked by the Worker, for the server to count, store and follow up. */
export interface WorkerRun {
  run: RunRecord;
  /** The engine's result without its trace, which `run` holds. */
  result: RunResult;
  /** The run has deferred sub-walks or action retries to queue once it is stored. */
  followUps: boolean;
}

/** The verdict was reached: the runs are the server's to store. */
export interface VerdictWorkerDecided {
  kind: "decided";
  id: number;
  body: Uint8Array<ArrayBuffer>;
  verdict: Verdict;
  runs: WorkerRun[];
  /** The run input's JSON when it is not `data`'s bytes in `body` (node context added). */
  inputJson?: Uint8Array<ArrayBuffer>;
  /** The SHA-256 hex of the run input's JSON. */
  inputHash: string;
}

/**
 * The Worker reached no verdict, and its runs are dropped:
 * - `main-thread`: a workflow asked for a service only the server has (MISP, mail, webhooks…), so
 *   the server decides instead; nothing was sent anywhere, since the Worker has none of them;
 * - `unparsed`: the bytes guessed to be `data` are not one JSON value; the server parses the
 *   whole body instead;
 * - `not-object`: `data` is not a JSON object.
 */
export interface VerdictWorkerDeclined {
  kind: "main-thread" | "unparsed" | "not-object";
  id: number;
  body: Uint8Array<ArrayBuffer>;
}

/** What the server sends. */
export type VerdictWorkerMessage = VerdictWorkerSetup | VerdictWorkerRequest;

/** Deciding threw: a bug, which the server answers with a block and logs. */
export interface VerdictWorkerFailed {
  kind: "failed";
  id: number;
  body: Uint8Array<ArrayBuffer>;
  /** The error's stack or message. */
  error: string;
}

/** What a Worker answers to a request. */
export type VerdictWorkerAnswer =
  | VerdictWorkerDecided
  | VerdictWorkerDeclined
  | VerdictWorkerFailed;

/** Posted once by a Worker whose modules are loaded: it takes requests from then on. */
export interface VerdictWorkerReady {
  kind: "ready";
}

/** Everything a Worker posts. */
export type VerdictWorkerPost = VerdictWorkerAnswer | VerdictWorkerReady;
