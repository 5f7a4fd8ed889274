/**
 * Slack Socket Mode: Bolt's `SocketModeReceiver` asks `apps.connections.open` (app-level token)
 * for a WebSocket URL, connects, and hands every envelope (slash command, button, event) to the
 * same Bolt listeners the HTTP transport uses, acknowledging it over the socket.
 *
 * The receiver's own reconnection is off and this supervisor does it instead, because the
 * library's leaves a failed reconnection as an unhandled promise rejection (which ends a Deno
 * process) and its `stop()` does not wait for the socket to close. Here every failure is logged
 * (never with the token) and retried after a doubling pause, and `stop()` resolves once the
 * socket is closed.
 *
 * @module
 */

import { type Logger, SocketModeReceiver } from "@slack/bolt";
import { log } from "../engine/log.ts";
import type { RetryPauses } from "./core.ts";
import { createRetryBackoff } from "./retry_backoff.ts";

/** Longest wait for one `apps.connections.open` call. */
export const SLACK_CONNECTIONS_OPEN_TIMEOUT_MS = 10_000;
/**
 * Longest wait from asking for a connection to Slack's `hello` on the socket; the library would
 * wait forever for a socket that opens and stays silent.
 */
export const SLACK_SOCKET_HELLO_TIMEOUT_MS = 30_000;
/** Pauses between reconnection attempts: the first, doubled up to the last. */
export const SLACK_SOCKET_RETRY_MS: RetryPauses = { first: 1_000, max: 60_000 };
/** A connection that stayed up this long resets the pause to its first value. */
const STABLE_CONNECTION_MS = 60_000;

/** Options of `createSlackSocket`. */
export interface SlackSocketOptions {
  /** App-level token (`xapp-…`) with the `connections:write` scope. */
  appToken: string;
  /** Web API base URL (`SLACK_API_URL`), for `apps.connections.open` on a local fake. */
  apiUrl?: string;
  logger: Logger;
  /** Pauses between reconnection attempts (tests shorten them). */
  retryMs?: RetryPauses;
  /** Default: `SLACK_SOCKET_HELLO_TIMEOUT_MS` (tests shorten it). */
  helloTimeoutMs?: number;
}

/** Where the Socket Mode connection stands. */
export type SlackSocketState = "stopped" | "connecting" | "connected" | "retrying";

/** A supervised Socket Mode connection; give `receiver` to Bolt's `App`. */
export interface SlackSocket {
  receiver: SocketModeReceiver;
  /** Connects in the background and keeps reconnecting until `stop`. */
  start(): void;
  /** Closes the socket and stops reconnecting; resolves once the connection is down. */
  stop(): Promise<void>;
  state(): SlackSocketState;
}

/** The part of `SocketModeClient` the supervisor uses. */
interface SocketClientEvents {
  once(event: "disconnected", listener: () => void): unknown;
  start(): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** Builds the receiver and its supervisor; nothing connects before `start`. */
export function createSlackSocket(options: SlackSocketOptions): SlackSocket {
  const retry = options.retryMs ?? SLACK_SOCKET_RETRY_MS;
  const helloTimeoutMs = options.helloTimeoutMs ?? SLACK_SOCKET_HELLO_TIMEOUT_MS;
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger: options.logger,
    autoReconnectEnabled: false,
    // Bolt's default acknowledges an envelope that failed authorization, and a rejected ack
    // (socket closed meanwhile) would go unhandled: log only, and let Slack deliver it again.
    processEventErrorHandler: ({ error, event }) => {
      log.error("Slack Socket Mode envelope failed", {
        type: String((event.body as { type?: unknown } | undefined)?.type ?? "unknown"),
        error: describeError(error),
      });
      return Promise.resolve(false);
    },
    installerOptions: {
      clientOptions: {
        ...(options.apiUrl ? { slackApiUrl: `${options.apiUrl.replace(/\/+$/, "")}/` } : {}),
        timeout: SLACK_CONNECTIONS_OPEN_TIMEOUT_MS,
        // The supervisor retries with its own pauses; the client's default is 100 quick retries.
        retryConfig: { retries: 0 },
      },
    },
  });
  const client = receiver.client as unknown as SocketClientEvents;
  let state: SlackSocketState = "stopped";
  let stopping = false;
  let running: Promise<void> | undefined;
  const backoff = createRetryBackoff(retry);

  const supervise = async () => {
    backoff.reset();
    while (!stopping) {
      state = "connecting";
      try {
        await startWithin(client, helloTimeoutMs);
      } catch (error) {
        if (stopping) break;
        state = "retrying";
        log.warn("Slack Socket Mode could not connect; retrying", {
          error: describeError(error),
          retry_in_ms: backoff.delayMs(),
        });
        await backoff.pause();
        continue;
      }
      const closed = new Promise<void>((resolve) => client.once("disconnected", resolve));
      if (stopping) {
        // `stop()` came while connecting: the socket opened after its disconnect.
        await client.disconnect();
        break;
      }
      state = "connected";
      const since = Date.now();
      log.info("Slack Socket Mode connected");
      await closed;
      if (stopping) break;
      if (Date.now() - since >= STABLE_CONNECTION_MS) backoff.reset();
      state = "retrying";
      log.warn("Slack Socket Mode connection closed; reconnecting", {
        retry_in_ms: backoff.delayMs(),
      });
      await backoff.pause();
    }
    state = "stopped";
  };

  return {
    receiver,
    start() {
      if (running) return;
      stopping = false;
      running = supervise().catch((error) => {
        state = "stopped";
        log.error("Slack Socket Mode supervisor stopped", { error: describeError(error) });
      });
    },
    async stop() {
      if (!running) return;
      stopping = true;
      backoff.interrupt();
      await client.disconnect();
      await running;
      running = undefined;
    },
    state: () => state,
  };
}

/**
 * `client.start()`, given up after `timeoutMs` without Slack's `hello`: the socket is then closed
 * and the attempt fails like any other.
 */
async function startWithin(client: SocketClientEvents, timeoutMs: number): Promise<void> {
  const started = client.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    if (await Promise.race([started, timedOut]) !== "timeout") return;
  } finally {
    clearTimeout(timer);
  }
  // Closing the socket makes the library reject `started`; that rejection is this failure.
  started.catch(() => {});
  await client.disconnect();
  throw new Deno.errors.TimedOut(`Slack did not say hello within ${timeoutMs} ms`);
}

/** An error's message with its Slack error code, never a token or a body. */
function describeError(error: unknown): string {
  if (error === undefined) return "the connection closed before Slack said hello";
  if (!(error instanceof Error)) return String(error);
  const data = (error as { data?: { error?: unknown } }).data;
  return typeof data?.error === "string" ? `${error.message} (${data.error})` : error.message;
}
