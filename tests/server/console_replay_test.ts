import assert from "node:assert/strict";
import { claimReplaySlot, MAX_REPLAYS_PER_RUN } from "../../store/replays.ts";
import { listRuns } from "../../store/runs.ts";
import {
  ADMIN_TOKEN,
  importRedBlueprint,
  mispQuery,
  realEvent,
  startTestApp,
  type TestApp,
} from "./test_app.ts";

const ORIGIN = "http://localhost";

/** A browser on the app's console: a cookie jar and the CSRF token of the last page read. */
class ConsoleBrowser {
  readonly #test: TestApp;
  readonly #cookies = new Map<string, string>();
  #csrf = "";

  constructor(test: TestApp) {
    this.#test = test;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) {
      headers.set(
        "Cookie",
        [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; "),
      );
    }
    const response = await this.#test.request(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name = "", value = ""] = pair.split("=");
      if (value === "") this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  /** GETs a page and keeps the CSRF token of its forms. */
  async page(path: string): Promise<string> {
    const html = await (await this.request(path)).text();
    this.#csrf = html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? this.#csrf;
    return html;
  }

  /** POSTs a form with the CSRF token, from the console's origin. */
  post(path: string, fields: Record<string, string> = {}): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { Origin: ORIGIN },
      body: new URLSearchParams({ _csrf: this.#csrf, ...fields }),
    });
  }

  async signIn(): Promise<void> {
    await this.page("/sign-in");
    const response = await this.post("/sign-in", { token: ADMIN_TOKEN, next: "/workflows" });
    assert.equal(response.status, 303);
  }
}

Deno.test("the console's replay button keeps to the per-run replay budget", async (t) => {
  await using test = await startTestApp();
  await importRedBlueprint(test);
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent({ tlpRed: true }));
  const [original] = (await listRuns(test.kv)).items;
  assert.ok(original);
  const browser = new ConsoleBrowser(test);
  await browser.signIn();
  await browser.page(`/runs/${original.id}`);
  const replaysOf = async () =>
    (await listRuns(test.kv)).items.filter((run) => run.replay_of === original.id);

  await t.step("the last replay within the budget opens the new run", async () => {
    for (let used = 1; used < MAX_REPLAYS_PER_RUN; used++) {
      await claimReplaySlot(test.kv, original.id);
    }
    const response = await browser.post(`/runs/${original.id}/replay`, { mode: "original" });
    assert.equal(response.status, 303);
    const [replay] = await replaysOf();
    assert.ok(replay);
    assert.equal(response.headers.get("Location"), `/runs/${replay.id}`);
    assert.equal(replay.dry_run, true);
    assert.equal(replay.actor.id, "console:admin");
  });

  await t.step("past the budget: a 409 page with the reason, and no run", async () => {
    const response = await browser.post(`/runs/${original.id}/replay`, { mode: "current" });
    assert.equal(response.status, 409);
    assert.match(response.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.match(
      await response.text(),
      new RegExp(
        `replayed ${MAX_REPLAYS_PER_RUN} times already \\(limit ${MAX_REPLAYS_PER_RUN}\\)`,
      ),
    );
    assert.equal((await replaysOf()).length, 1);
  });

  await t.step("an unknown run: a 404 page", async () => {
    const response = await browser.post("/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ/replay");
    assert.equal(response.status, 404);
    assert.match(response.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.match(await response.text(), /no such run/);
  });

  await t.step("the replay is counted in the run metrics", async () => {
    const response = await test.admin("/metrics");
    assert.equal(response.status, 200);
    assert.match(
      await response.text(),
      /flowgate_runs_total\{trigger="enrichment-before-query",outcome="blocked"\} 2/,
    );
  });
});
