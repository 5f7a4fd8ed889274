/**
 * A local fake of Slack's Socket Mode WebSocket server on 127.0.0.1 (port 0). `issueUrl()` is what
 * the fake `apps.connections.open` hands out: a `ws://` URL with a one-use ticket. A client that
 * connects with a valid ticket gets `{"type":"hello"}` (unless `hello: false`); `send` then delivers envelopes
 * (`slash_commands`, `interactive`, `events_api`) as Slack does, and every acknowledgement
 * (`{"envelope_id", "payload"}`) is recorded.
 *
 * ```ts
 * await using socket = startSlackSocket();
 * await using slack = startSlackApi({ token: "xoxb-…", socketMode: { appToken: "xapp-…", server: socket } });
 * const id = socket.send("slash_commands", { command: "/flowgate", text: "list", … });
 * await waitFor(() => socket.acked(id));
 * ```
 *
 * @module
 */

/** One acknowledgement the client sent back. */
export interface SlackSocketAck {
  "envelope_id": string;
  payload?: unknown;
}

/** A running fake Socket Mode server. */
export interface SlackSocketServer extends AsyncDisposable {
  /** A fresh `ws://…/link/?ticket=…` URL, valid for one connection. */
  issueUrl(): string;
  /** How many clients connected with a valid ticket so far. */
  connections(): number;
  /** A client is connected and was sent `hello`. */
  connected(): boolean;
  /** Sends an envelope on the open connection; returns its `envelope_id`. */
  send(type: "slash_commands" | "interactive" | "events_api", payload: unknown): string;
  /** Every acknowledgement received, in order. */
  acks: SlackSocketAck[];
  /** Whether the envelope `id` was acknowledged. */
  acked(id: string): boolean;
  /** Asks the client to reconnect, as Slack does before recycling a connection. */
  requestReconnect(): void;
  /** Closes the server and any open connection. */
  close(): Promise<void>;
}

/** Options of `startSlackSocket`. */
export interface SlackSocketOptions {
  /** False: accept connections and stay silent, never sending `hello` (default true). */
  hello?: boolean;
}

/** Starts the fake on a free port. */
export function startSlackSocket(options: SlackSocketOptions = {}): SlackSocketServer {
  const tickets = new Set<string>();
  const acks: SlackSocketAck[] = [];
  let current: WebSocket | undefined;
  let connections = 0;
  let envelopes = 0;
  let ticketCount = 0;
  const open = new Set<WebSocket>();
  const closedSockets: Promise<void>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/link/" || !tickets.delete(ticket)) {
      return new Response("unknown or used ticket", { status: 401 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 400 });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const closed = Promise.withResolvers<void>();
    closedSockets.push(closed.promise);
    socket.onopen = () => {
      open.add(socket);
      connections++;
      current = socket;
      if (options.hello === false) return;
      socket.send(JSON.stringify({
        type: "hello",
        "num_connections": 1,
        "connection_info": { "app_id": "A0APP" },
      }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as SlackSocketAck;
      if (typeof message.envelope_id === "string") acks.push(message);
    };
    socket.onclose = () => {
      open.delete(socket);
      if (current === socket) current = undefined;
      closed.resolve();
    };
    socket.onerror = () => {};
    return response;
  });
  const port = server.addr.port;
  const close = async () => {
    for (const socket of open) socket.close(1001, "fake Slack closing");
    await Promise.all(closedSockets);
    await server.shutdown();
  };
  return {
    issueUrl() {
      const ticket = `ticket-${++ticketCount}`;
      tickets.add(ticket);
      return `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0APP`;
    },
    connections: () => connections,
    connected: () => current?.readyState === WebSocket.OPEN,
    send(type, payload) {
      if (!current || current.readyState !== WebSocket.OPEN) {
        throw new Error(`No Socket Mode client is connected to send the ${type} envelope to`);
      }
      const id = `envelope-${++envelopes}`;
      current.send(JSON.stringify({
        "envelope_id": id,
        type,
        payload,
        "accepts_response_payload": type !== "events_api",
        ...(type === "events_api" ? { "retry_attempt": 0, "retry_reason": "" } : {}),
      }));
      return id;
    },
    acks,
    acked: (id) => acks.some((ack) => ack.envelope_id === id),
    requestReconnect() {
      current?.send(JSON.stringify({
        type: "disconnect",
        reason: "refresh_requested",
        "debug_info": { host: "fake" },
      }));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
