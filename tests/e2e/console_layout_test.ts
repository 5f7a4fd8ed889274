/**
 * The console's layout in headless Chromium, at desktop (1280 px) and phone (390 px) width: a
 * 15-node graph fits the width and zooms, no page scrolls sideways on a phone, times stay on one
 * line, and the dead-letters, import and approvals pages render. The app runs in process on a
 * free port (approval gate and fake MISP from `approval_setup.ts`); screenshots of every page go
 * to `screenshots/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { addDeadLetter } from "../../store/dead_letters.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { amberEvent, type ApprovalSetup, startApprovalSetup } from "../fixtures/approval_setup.ts";
import { BROKEN_IMPORT_LINE, BROKEN_IMPORT_YAML } from "../server/console/broken_import.ts";
import { largeWorkflowYaml } from "../server/console/large_workflow.ts";
import { ADMIN_TOKEN, mispQuery } from "../server/test_app.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = new URL("../../screenshots/", import.meta.url);
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

const chromiumInstalled = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** Workflows, runs, two approvals (the second after an edit), dead letters. */
async function seed(setup: ApprovalSetup): Promise<{ largeId: string; runId: string }> {
  const { test } = setup;
  const large = await createWorkflow(
    test.kv,
    parseWorkflowYaml(largeWorkflowYaml(), { catalog: MODULE_CATALOG }),
    { actor: "test", sourceFormat: "yaml" },
  );
  const red = parseWorkflowYaml(
    await Deno.readTextFile(
      new URL("../../examples/block-tlp-red-publication.yaml", import.meta.url),
    ),
    { catalog: MODULE_CATALOG },
  );
  await createWorkflow(test.kv, red, { actor: "test", sourceFormat: "yaml" });
  const event = await amberEvent();
  const redEvent = structuredClone(event) as { Event: { Tag: unknown[] } };
  redEvent.Event.Tag.push({ id: "9", name: "tlp:red" });
  for (const data of [redEvent, event, redEvent]) {
    const response = await mispQuery(test, "flowgate_event_publish", data);
    await response.body?.cancel();
  }
  // An approval, approved; the event edited; a second approval showing only the change.
  const first = /awaiting approval ([0-9A-Z]{26})/.exec(
    JSON.stringify((await setup.publish()).body),
  );
  assert.ok(first);
  await setup.service.decide(first[1]!, {
    actor: "slack:U1",
    role: "responder",
    decision: "approve",
  });
  const stored = setup.misp.event("1")!;
  const edit = await fetch(`${setup.misp.url}/events/edit/1`, {
    method: "POST",
    headers: { Authorization: setup.misp.apiKey, "Content-Type": "application/json" },
    body: JSON.stringify({
      Event: {
        Attribute: [...(stored.Attribute as unknown[]), {
          id: "242461",
          category: "Network activity",
          type: "ip-dst",
          value: "198.51.100.23",
          to_ids: true,
          timestamp: String(Number(stored.publish_timestamp) + 60),
        }],
        Tag: [...(stored.Tag as unknown[]), { id: "8", name: "type:OSINT" }],
      },
    }),
  });
  await edit.body?.cancel();
  assert.equal((await setup.publish()).status, 403);
  await addDeadLetter(test.kv, {
    kind: "action-retry",
    payload: { parent_run_id: "01JRUN", node_id: "notify", attempt: 5 },
    error: 'Action node "notify" still failing after 5 attempts: webhook answered HTTP 503',
    attempts: 5,
  });
  await addDeadLetter(test.kv, {
    kind: "intake",
    payload: { type: "intake", intake_id: "01JINTAKE", trigger: "event-publish", run_ids: [] },
    error: "Intake payload unreadable: Unexpected end of JSON input",
    attempts: 1,
  });
  const runs = await test.admin("/api/runs?outcome=blocked");
  const runId = (await runs.json()).items[0].id as string;
  return { largeId: large.id, runId };
}

async function launch(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/** The page's width beyond the viewport (0 when nothing scrolls sideways). */
async function overflow(page: Page): Promise<number> {
  return await page.evaluate<number>(
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  );
}

Deno.test({
  name: chromiumInstalled
    ? "console layout in Chromium: large graph, phone width, dead letters, import, approvals"
    : `console layout in Chromium: SKIPPED, ${CHROMIUM} is not installed`,
  ignore: !chromiumInstalled,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    await using setup = await startApprovalSetup();
    const { largeId, runId } = await seed(setup);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request, info) => setup.test.app.fetch(request, info),
    );
    const url = `http://127.0.0.1:${server.addr.port}`;
    const browser = await launch();
    try {
      for (const [device, viewport] of Object.entries(VIEWPORTS)) {
        const context = await browser.newContext({ baseURL: url, viewport });
        const page = await context.newPage();
        await page.goto("/sign-in");
        await page.fill("#token", ADMIN_TOKEN);
        await Promise.all([page.waitForURL("**/workflows"), page.click("button[type=submit]")]);

        const pages: [string, string][] = [
          ["20-workflows", "/workflows"],
          ["21-workflow-15-nodes", `/workflows/${largeId}`],
          ["22-runs", "/runs"],
          ["23-run", `/runs/${runId}`],
          ["24-approvals", "/approvals"],
          ["25-dead-letters", "/dead-letters"],
        ];
        for (const [name, path] of pages) {
          await t.step(`${device}: ${path} fits the width`, async () => {
            await page.goto(path);
            await shoot(page, `${name}-${device}`);
            assert.equal(await overflow(page), 0, `${path} scrolls sideways on ${device}`);
          });
        }

        await t.step(`${device}: the 15-node graph is drawn whole inside its box`, async () => {
          await page.goto(`/workflows/${largeId}`);
          const fit = await page.evaluate<number[]>(
            `(() => { const svg = document.querySelector(".graph svg").getBoundingClientRect();
              const box = document.querySelector(".graph").getBoundingClientRect();
              return [svg.width, box.width, document.querySelectorAll(".graph g.node").length]; })()`,
          );
          assert.ok(fit[0]! <= fit[1]!, `graph ${fit[0]} px wide in a ${fit[1]} px box`);
          assert.equal(fit[2], 15);
          await page.click("a.actual");
          const actual = await page.evaluate<number>(
            `document.querySelector(".graph svg").getBoundingClientRect().width`,
          );
          assert.ok(actual > fit[0]!, "actual size is larger than fitted");
          await shoot(page, `21-workflow-15-nodes-actual-${device}`);
        });

        await t.step(`${device}: run times stay on one line`, async () => {
          await page.goto("/runs");
          const heights = await page.evaluate<number[]>(
            `[...document.querySelectorAll("tr[data-run] time")].map((t) => t.getClientRects().length)`,
          );
          assert.ok(heights.length > 0);
          assert.ok(heights.every((lines) => lines === 1), `time boxes: ${heights}`);
        });

        await t.step(`${device}: a broken import shows its line`, async () => {
          await page.goto("/import");
          await page.fill("#source", BROKEN_IMPORT_YAML);
          await Promise.all([
            page.waitForLoadState("load"),
            page.click("button[value=save]"),
          ]);
          await page.waitForSelector("#problems");
          assert.equal(await page.locator(`.source .line.bad#L${BROKEN_IMPORT_LINE}`).count(), 1);
          assert.equal(await page.inputValue("#source"), BROKEN_IMPORT_YAML);
          await shoot(page, `26-import-error-${device}`);
          assert.equal(await overflow(page), 0);
        });
        await context.close();
      }
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
