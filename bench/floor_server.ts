/**
 * The HTTP benchmark's floor: a bare `Deno.serve` that does the least any server must do for
 * MISP's `/query` (read the body, `JSON.parse` it, look for the `tlp:red` event tag, answer
 * MISP's shape) and for a webhook (read, parse, answer 202). Nothing is stored. Started by
 * `bench/http_bench.ts` as its own process: `deno run --allow-net bench/floor_server.ts <port>`.
 *
 * @module
 */

/** True when the MISP data's event carries the `tlp:red` tag. */
export function hasRedTag(data: unknown): boolean {
  const event = (data as { Event?: { Tag?: unknown } } | null)?.Event;
  const tags = event?.Tag;
  return Array.isArray(tags) &&
    tags.some((tag) => (tag as { name?: unknown } | null)?.name === "tlp:red");
}

/** The floor's answer to a request: MISP's `/query` shapes, or 202 for a webhook. */
export async function answerFloor(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (request.method === "GET") return Response.json({ ok: true });
  const body = JSON.parse(await request.text());
  if (path.startsWith("/hooks/")) return Response.json({ run_ids: [] }, { status: 202 });
  return Response.json(
    hasRedTag(body?.data) ? { error: "Blocked: the event is tlp:red" } : { data: true },
  );
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  if (!Number.isInteger(port) || port <= 0) {
    throw new TypeError(`Cannot start the floor server: give a port, got "${Deno.args[0]}"`);
  }
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, answerFloor);
}
