/**
 * The web console in headless Chromium against a real Flowgate process (`main.ts` on a temporary
 * KV and a free port): sign in, toggle a workflow, open a blocked run, dry-run a real event,
 * approvals, and refusals without a session or with a wrong CSRF token. Screenshots of every page
 * go to `screenshots/` (git-ignored).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { startTaskFlags } from "../fixtures/flowgate_process.ts";

const CHROMIUM = "/usr/bin/chromium";
const ADMIN_TOKEN = "e2e-console-admin-token-0123456789";
const ROOT = new URL("../../", import.meta.url);
const SCREENSHOTS = new URL("../../screenshots/", import.meta.url);
const DATA = new URL("../../../shared/data/", import.meta.url);
const BLUEPRINT = "blueprint_pap_red-and-tlp_red-blocking_1661328258.json";
const EVENT = "misp-event-pymisp-sighting_2.json";
const START_TIMEOUT_MS = 30_000;

const chromiumInstalled = await Deno.stat(CHROMIUM).then(() => true, () => false);

interface Flowgate extends AsyncDisposable {
  url: string;
  api(path: string, init?: RequestInit): Promise<Response>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts `main.ts` as a subprocess on a temporary KV; waits for `/healthz`. */
async function startFlowgate(): Promise<Flowgate> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-console-e2e-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    // The flags of `deno task start`, so the console works with what production grants.
    args: ["run", ...startTaskFlags(), "main.ts"],
    cwd: ROOT,
    env: {
      PORT: String(port),
      FLOWGATE_KV: `${dir}/flowgate.kv`,
      FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      FLOWGATE_LOG_LEVEL: "warn",
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void stderr.push(text) }),
  );
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const healthy = await fetch(`${url}/healthz`).then(
      async (response) => (await response.body?.cancel(), response.ok),
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill();
      await child.status;
      throw new Error(`Flowgate did not start within ${START_TIMEOUT_MS} ms:\n${stderr.join("")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      return fetch(`${url}${path}`, { ...init, headers });
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function readData(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(name, DATA));
}

/** The real event with `tlp:red` on its first attribute: the blueprint blocks it. */
async function redEvent(): Promise<Record<string, unknown>> {
  const event = JSON.parse(await readData(EVENT));
  event.Event.Attribute[0].Tag = [
    ...(event.Event.Attribute[0].Tag ?? []),
    { id: "9001", name: "tlp:red", colour: "#CC0033", exportable: true },
  ];
  return event;
}

async function seed(flowgate: Flowgate): Promise<{ workflowId: string; blockedRunId: string }> {
  const created = await flowgate.api("/api/workflows?trigger=enrichment-before-query&enable=true", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: await readData(BLUEPRINT),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const workflowId = (await created.json()).workflow.id;
  for (const data of [await redEvent(), JSON.parse(await readData(EVENT))]) {
    const response = await fetch(`${flowgate.url}/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ module: "flowgate_enrichment_before_query", data, params: {} }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const runs = await (await flowgate.api("/api/runs?outcome=blocked")).json();
  assert.equal(runs.items.length, 1);
  return { workflowId, blockedRunId: runs.items[0].id };
}

/** Clicks a submit button and waits until the page it leads to has loaded. */
async function submit(page: Page, button: Locator): Promise<void> {
  const navigated = page.waitForEvent("framenavigated");
  await button.click();
  await navigated;
  await page.waitForLoadState("load");
}

/** The real event tagged `tlp:amber`: the require-approval example parks its publication. */
async function amberEvent(): Promise<Record<string, unknown>> {
  const event = JSON.parse(await readData(EVENT));
  event.Event.Tag = [...event.Event.Tag, { id: "7", name: "tlp:amber", colour: "#FFC000" }];
  return event;
}

/**
 * Adds the require-approval example and publishes a tlp:amber event through `/query`; returns the
 * id of the approval it opened, or undefined when this Flowgate has no approval service.
 */
async function parkApproval(flowgate: Flowgate): Promise<string | undefined> {
  const created = await flowgate.api("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: await Deno.readTextFile(new URL("examples/require-approval-tlp-amber.yaml", ROOT)),
  });
  assert.equal(created.status, 201, await created.clone().text());
  await created.body?.cancel();
  const response = await fetch(`${flowgate.url}/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ module: "flowgate_event_publish", data: await amberEvent() }),
  });
  const body = await response.text();
  return /awaiting approval ([0-9A-Z]{26})/.exec(body)?.[1];
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

async function launch(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

Deno.test({
  name: chromiumInstalled
    ? "console in Chromium: sign in, toggle, blocked run, dry run, approve, refusals"
    : `console in Chromium: SKIPPED, ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  ignore: !chromiumInstalled,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await using flowgate = await startFlowgate();
    const { workflowId, blockedRunId } = await seed(flowgate);
    const approvalId = await parkApproval(flowgate);
    const browser = await launch();
    try {
      const context = await browser.newContext({
        baseURL: flowgate.url,
        viewport: { width: 1280, height: 800 },
      });
      const page = await context.newPage();
      const cspErrors: string[] = [];
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
      });

      await t.step("an unsigned visitor lands on the sign-in page and signs in", async () => {
        await page.goto("/runs");
        assert.match(new URL(page.url()).pathname, /^\/sign-in$/);
        await screenshot(page, "01-sign-in");
        await page.fill("#token", "not-the-token");
        await submit(page, page.locator("button[type=submit]"));
        assert.equal(await page.locator("p.error").textContent(), "Wrong admin token");
        await page.fill("#token", ADMIN_TOKEN);
        await submit(page, page.locator("button[type=submit]"));
        assert.equal(new URL(page.url()).pathname, "/runs");
        const cookies = await context.cookies();
        const session = cookies.find((cookie) => cookie.name === "__Host-flowgate_session");
        assert.ok(session, "the Secure session cookie is kept on http://127.0.0.1");
        assert.equal(session.httpOnly, true);
        assert.equal(session.secure, true);
        assert.equal(session.sameSite, "Strict");
      });

      await t.step("the workflows page toggles a workflow off and on", async () => {
        await page.goto("/workflows");
        const row = page.locator(`tr[data-workflow="pap-red-and-tlp-red-blocking"]`);
        assert.equal(await row.locator(".badge.enabled").count(), 1);
        await screenshot(page, "02-workflows");
        await submit(page, row.getByRole("button", { name: /^Disable/ }));
        assert.equal(new URL(page.url()).pathname, "/workflows");
        assert.equal(await row.locator(".badge.disabled").count(), 1);
        const stored = await (await flowgate.api(`/api/workflows/${workflowId}`)).json();
        assert.equal(stored.workflow.enabled, false);
        await screenshot(page, "03-workflows-disabled");
        await submit(page, row.getByRole("button", { name: /^Enable/ }));
        assert.equal(await row.locator(".badge.enabled").count(), 1);
        const again = await (await flowgate.api(`/api/workflows/${workflowId}`)).json();
        assert.equal(again.workflow.enabled, true);
      });

      await t.step("a blocked run shows the path and the deciding node highlighted", async () => {
        await page.goto("/runs?outcome=blocked");
        await screenshot(page, "04-runs");
        await submit(page, page.locator(`tr[data-run="${blockedRunId}"] a`).first());
        assert.equal(new URL(page.url()).pathname, `/runs/${blockedRunId}`);
        const run = await (await flowgate.api(`/api/runs/${blockedRunId}`)).json();
        const deciding = page.locator(`svg g.node.deciding[data-node="${run.deciding_node_id}"]`);
        assert.equal(await deciding.count(), 1);
        // Page functions run in the browser: given as text, since Deno's types have no DOM.
        const stroke = await page.evaluate<string>(
          `getComputedStyle(document.querySelector("svg g.node.deciding .shape")).strokeWidth`,
        );
        assert.equal(stroke, "5px");
        assert.equal(await page.locator("svg g.node.visited").count(), run.trace.length);
        assert.ok(await page.locator("svg g.edge.taken").count() >= 2);
        assert.equal(await page.locator("tr.deciding").count(), 1);
        await screenshot(page, "05-run-blocked");
      });

      await t.step("dry-running a real event from ../shared/data shows the trace", async () => {
        await page.goto(`/workflows/${workflowId}`);
        await screenshot(page, "06-workflow");
        await page.setInputFiles("#event_file", new URL(EVENT, DATA).pathname);
        await submit(page, page.getByRole("button", { name: "Dry-run" }));
        assert.match(new URL(page.url()).pathname, /^\/runs\/[0-9A-Z]{26}$/);
        assert.equal(await page.locator(".notice[data-outcome=success]").count(), 1);
        assert.equal(await page.locator(".badge.dry").count(), 1);
        assert.ok(await page.locator("svg g.node.visited").count() >= 2);
        await screenshot(page, "07-dry-run-allowed");

        await page.goto(`/workflows/${workflowId}`);
        await page.fill("#event", JSON.stringify(await redEvent()));
        await submit(page, page.getByRole("button", { name: "Dry-run" }));
        assert.equal(await page.locator(".notice[data-outcome=blocked]").count(), 1);
        assert.equal(await page.locator("svg g.node.deciding").count(), 1);
        await screenshot(page, "08-dry-run-blocked");
      });

      await t.step({
        name: approvalId
          ? "a pending approval is approved from the approvals page"
          : "approving: SKIPPED, this Flowgate has no approval service (services.approvals)",
        ignore: approvalId === undefined,
        async fn() {
          await page.goto("/approvals");
          const card = page.locator(`[data-approval="${approvalId}"]`);
          assert.equal(await card.locator(".badge.pending-approval").count(), 1);
          assert.match(await card.textContent() ?? "", /nobody yet/);
          await screenshot(page, "09-approvals-pending");
          await card.locator("input[name=reason]").fill("Checked in the e2e test");
          await submit(page, card.getByRole("button", { name: "Approve" }));
          const decided = page.locator(`[data-approval="${approvalId}"]`);
          assert.equal(await decided.locator(".badge.success").count(), 1);
          assert.match(await decided.textContent() ?? "", /approve by console:admin/);
          await screenshot(page, "10-approvals-approved");
        },
      });

      await t.step({
        name: "without an approval service the approvals page says so",
        ignore: approvalId !== undefined,
        async fn() {
          await page.goto("/approvals");
          assert.equal(await page.locator("[data-approvals=disabled]").count(), 1);
          await screenshot(page, "09-approvals-disabled");
        },
      });

      await t.step("a wrong CSRF token or no session is refused", async () => {
        const wrong = await context.request.post(`/workflows/${workflowId}/disable`, {
          form: { _csrf: "wrong-token" },
          maxRedirects: 0,
        });
        assert.equal(wrong.status(), 403);
        const anonymous = await browser.newContext({ baseURL: flowgate.url });
        const refused = await anonymous.request.post(`/workflows/${workflowId}/disable`, {
          form: { _csrf: "anything" },
          maxRedirects: 0,
        });
        assert.equal(refused.status(), 403);
        const anonymousPage = await anonymous.newPage();
        await anonymousPage.goto(`/runs/${blockedRunId}`);
        assert.equal(new URL(anonymousPage.url()).pathname, "/sign-in");
        await anonymous.close();
        const stored = await (await flowgate.api(`/api/workflows/${workflowId}`)).json();
        assert.equal(stored.workflow.enabled, true);
      });

      await t.step("phone and dark mode render the run page", async () => {
        const phone = await browser.newContext({
          baseURL: flowgate.url,
          viewport: { width: 390, height: 844 },
          colorScheme: "dark",
          storageState: await context.storageState(),
        });
        const phonePage = await phone.newPage();
        await phonePage.goto(`/runs/${blockedRunId}`);
        const width = await phonePage.evaluate<number>("document.documentElement.scrollWidth");
        assert.ok(width <= 390, `the page scrolls sideways on a phone (${width}px wide)`);
        await screenshot(phonePage, "11-run-phone-dark");
        await phone.close();
      });

      await t.step("signing out ends the session", async () => {
        await page.goto("/workflows");
        await submit(page, page.getByRole("button", { name: "Sign out" }));
        assert.equal(new URL(page.url()).pathname, "/sign-in");
        await page.goto("/workflows");
        assert.equal(new URL(page.url()).pathname, "/sign-in");
      });

      assert.deepEqual(cspErrors, []);
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
