import assert from "node:assert/strict";
import { stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { CONSOLE_CSP } from "../../server/console/app.tsx";
import { SESSION_TTL_MS } from "../../server/console/session.tsx";
import { CONSOLE_CSS_PATH } from "../../server/console/styles.ts";
import { listAudit } from "../../store/audit.ts";
import { getWorkflow } from "../../store/workflows.ts";
import { getApproval } from "../../store/approvals.ts";
import { type ApprovalSetup, startApprovalSetup } from "../fixtures/approval_setup.ts";
import { ConsoleClient, ORIGIN, signedIn } from "./console/console_client.ts";
import {
  ADMIN_TOKEN,
  importRedBlueprint,
  LOOPBACK_ENV,
  mispQuery,
  readSharedData,
  realEvent,
  startTestApp,
} from "./test_app.ts";

/** Most bytes of HTML plus CSS a page may need on first load. */
const PAGE_BUDGET_BYTES = 200_000;
Deno.test("createConsole() sends visitors without a session to the sign-in page", async (t) => {
  await using test = await startTestApp();
  const client = new ConsoleClient(test);
  await t.step("pages redirect with the page to come back to", async () => {
    for (const path of ["/workflows", "/runs?outcome=blocked", "/approvals", "/runs/x"]) {
      const response = await client.request(path);
      assert.equal(response.status, 303);
      assert.equal(
        response.headers.get("Location"),
        `/sign-in?next=${encodeURIComponent(path)}`,
      );
    }
    assert.equal((await client.request("/")).headers.get("Location"), "/workflows");
  });
  await t.step("state-changing requests are refused", async () => {
    const id = await importRedBlueprint(test);
    const response = await client.post(`/workflows/${id}/disable`, { _csrf: "x" });
    assert.equal(response.status, 403);
    assert.match(response.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.equal((await getWorkflow(test.kv, id))?.workflow.enabled, true);
  });
  await t.step("a made-up session cookie is no session", async () => {
    client.cookies.set("__Host-flowgate_session", "made-up");
    assert.equal((await client.request("/workflows")).status, 303);
  });
});

Deno.test("createApp() serves the console at / and leaves the other routes alone", async () => {
  await using test = await startTestApp();
  const page = await test.request("/workflows");
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("Location"), "/sign-in?next=%2Fworkflows");
  assert.equal((await test.request("/sign-in")).status, 200);
  const api = await test.request("/api/workflows");
  assert.equal(api.status, 401);
  assert.match(api.headers.get("Content-Type")!, /^application\/json/);
  assert.equal(api.headers.get("Content-Security-Policy"), null);
  assert.equal((await test.admin("/api/workflows")).status, 200);
  assert.equal((await test.request("/healthz")).status, 200);
  assert.equal((await test.request("/no-such-route")).status, 404);
});

Deno.test("POST /sign-in checks the admin token and starts a session cookie", async (t) => {
  await using test = await startTestApp();
  await t.step("a wrong token: 401 and the form again", async () => {
    const client = new ConsoleClient(test);
    await client.page("/sign-in");
    const response = await client.post("/sign-in", { token: "wrong" });
    assert.equal(response.status, 401);
    assert.match(await response.text(), /Wrong admin token/);
    assert.equal(client.cookies.has("__Host-flowgate_session"), false);
  });
  await t.step("without the form's CSRF token or from another origin: 403", async () => {
    const client = new ConsoleClient(test);
    await client.page("/sign-in");
    const noToken = await client.post("/sign-in", { token: ADMIN_TOKEN, _csrf: "" });
    assert.equal(noToken.status, 403);
    const foreign = await client.post("/sign-in", { token: ADMIN_TOKEN }, {
      Origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(client.cookies.has("__Host-flowgate_session"), false);
  });
  await t.step(
    "the right token: HttpOnly, Secure, SameSite=Strict cookie with an expiry",
    async () => {
      const client = new ConsoleClient(test);
      await client.page("/sign-in?next=%2Fruns%3Foutcome%3Dblocked");
      const response = await client.post("/sign-in", {
        token: ADMIN_TOKEN,
        next: "/runs?outcome=blocked",
      });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("Location"), "/runs?outcome=blocked");
      const cookie = response.headers.getSetCookie().find((line) =>
        line.startsWith("__Host-flowgate_session=")
      );
      assert.ok(cookie);
      for (
        const attribute of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=28800"]
      ) {
        assert.ok(cookie.split("; ").includes(attribute), `${attribute} in ${cookie}`);
      }
      assert.equal((await client.request("/workflows")).status, 200);
      const audit = await listAudit(test.kv);
      assert.ok(audit.items.some((entry) => entry.action === "console.sign_in"));
    },
  );
  await t.step("next paths to other sites are ignored", async () => {
    const client = new ConsoleClient(test);
    await client.page("/sign-in");
    const response = await client.post("/sign-in", {
      token: ADMIN_TOKEN,
      next: "//evil.example/x",
    });
    assert.equal(response.headers.get("Location"), "/workflows");
  });
});

Deno.test("a console session expires after its time to live", async () => {
  await using test = await startTestApp();
  let now = Date.now();
  const client = new ConsoleClient(test, () => now);
  assert.equal((await client.signIn()).status, 303);
  now += SESSION_TTL_MS - 1_000;
  assert.equal((await client.request("/workflows")).status, 200);
  now += 2_000;
  const expired = await client.request("/workflows");
  assert.equal(expired.status, 303);
  assert.match(expired.headers.get("Location")!, /^\/sign-in/);
});

Deno.test("POST /sign-out ends the session for good", async () => {
  await using test = await startTestApp();
  const client = await signedIn(test);
  const stolen = client.cookies.get("__Host-flowgate_session")!;
  const response = await client.post("/sign-out");
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("Location"), "/sign-in");
  assert.equal(client.cookies.has("__Host-flowgate_session"), false);
  client.cookies.set("__Host-flowgate_session", stolen);
  assert.equal((await client.request("/workflows")).status, 303);
});

Deno.test("console forms need the session's CSRF token and the console's origin", async (t) => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const client = await signedIn(test);
  const enabled = async () => (await getWorkflow(test.kv, id))?.workflow.enabled;
  await t.step("no token, a wrong token: 403", async () => {
    assert.equal((await client.post(`/workflows/${id}/disable`, { _csrf: "" })).status, 403);
    assert.equal((await client.post(`/workflows/${id}/disable`, { _csrf: "nope" })).status, 403);
    const json = await client.request(`/workflows/${id}/disable`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: ORIGIN },
      body: JSON.stringify({ _csrf: client.csrf }),
    });
    assert.equal(json.status, 403);
    assert.equal(await enabled(), true);
  });
  await t.step("another origin or a cross-site fetch: 403 even with the token", async () => {
    const foreign = await client.post(`/workflows/${id}/disable`, {}, {
      Origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.match(await foreign.text(), /origin &quot;https:\/\/evil.example&quot;/);
    const crossSite = await client.post(`/workflows/${id}/disable`, {}, {
      "Sec-Fetch-Site": "cross-site",
    });
    assert.equal(crossSite.status, 403);
    assert.equal(await enabled(), true);
  });
  await t.step("the right token toggles the workflow, audited", async () => {
    const off = await client.post(`/workflows/${id}/disable`);
    assert.equal(off.status, 303);
    assert.equal(off.headers.get("Location"), "/workflows");
    assert.equal(await enabled(), false);
    const on = await client.post(`/workflows/${id}/enable`, { back: "workflow" });
    assert.equal(on.headers.get("Location"), `/workflows/${id}`);
    assert.equal(await enabled(), true);
    const actions = (await listAudit(test.kv)).items.map((entry) => entry.action);
    assert.ok(actions.includes("workflow.disable") && actions.includes("workflow.enable"));
    const stored = await getWorkflow(test.kv, id);
    assert.equal(stored?.updated_by, "console:admin");
  });
});

Deno.test("behind a trusted proxy, forms from the forwarded host are same-origin", async () => {
  await using test = await startTestApp({ env: { FLOWGATE_TRUSTED_PROXIES: "127.0.0.1" } });
  const id = await importRedBlueprint(test);
  const client = await signedIn(test);
  const proxied = { Origin: "https://flowgate.example", "X-Forwarded-Host": "flowgate.example" };
  const untrusted = await client.post(`/workflows/${id}/disable`, {}, proxied);
  assert.equal(untrusted.status, 403);
  client.env = LOOPBACK_ENV;
  const trusted = await client.post(`/workflows/${id}/disable`, {}, proxied);
  assert.equal(trusted.status, 303);
  assert.equal((await getWorkflow(test.kv, id))?.workflow.enabled, false);
});

Deno.test("console pages show MISP data as text, never as markup", async () => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const event = await realEvent({ tlpRed: true });
  const info = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
  (event.Event as Record<string, unknown>).info = info;
  await mispQuery(test, "flowgate_enrichment_before_query", event);
  const client = await signedIn(test);
  const [run] = (await (await test.admin("/api/runs")).json()).items;
  for (const path of ["/runs", `/runs/${run.id}`, `/workflows/${id}`, "/workflows"]) {
    const { response, html } = await client.page(path);
    assert.equal(response.status, 200);
    assert.doesNotMatch(html, /<script/i, path);
    assert.doesNotMatch(html, /<img/i, path);
  }
  const { html } = await client.page(`/runs/${run.id}`);
  assert.ok(
    html.includes(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
    ),
  );
});

Deno.test("the run page draws the path taken and marks the deciding node", async () => {
  await using test = await startTestApp();
  await importRedBlueprint(test);
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent({ tlpRed: true }));
  const client = await signedIn(test);
  const [summary] = (await (await test.admin("/api/runs?outcome=blocked")).json()).items;
  const run = await (await test.admin(`/api/runs/${summary.id}`)).json();
  const { html } = await client.page(`/runs/${run.id}`);
  const nodeClasses = new Map(
    [...html.matchAll(/<g class="([^"]+)" data-node="([^"]+)"/g)].map((m) => [m[2], m[1]]),
  );
  assert.equal(nodeClasses.size, 3);
  assert.match(nodeClasses.get(run.deciding_node_id)!, /\bdeciding\b/);
  for (const entry of run.trace) assert.match(nodeClasses.get(entry.node_id)!, /\bvisited\b/);
  assert.match(nodeClasses.get(run.deciding_node_id)!, /\bblocking\b/);
  const taken = [...html.matchAll(/<g class="edge taken" data-from="([^"]+)" data-to="([^"]+)"/g)]
    .map((m) => `${m[1]}>${m[2]}`);
  const path = run.trace.map((entry: { node_id: string }) => entry.node_id);
  assert.deepEqual(taken, [`${path[0]}>${path[1]}`, `${path[1]}>${path[2]}`]);
  assert.match(html, />then</);
  assert.match(html, /<tr id="trace-2" class="deciding">/);
  assert.match(html, /Execution stopped/);
});

Deno.test("the workflow page shows the YAML, the versions and a diff between two", async () => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const client = await signedIn(test);
  await client.post(`/workflows/${id}/disable`);
  const stored = (await getWorkflow(test.kv, id))!;
  const { html } = await client.page(`/workflows/${id}?from=1&to=2`);
  const yaml = stringifyWorkflowYaml(stored.workflow, MODULE_CATALOG);
  assert.ok(html.includes(yaml.split("\n")[0]!));
  assert.match(html, /<div class="del">enabled: true<\/div>/);
  assert.match(html, /<div class="add">enabled: false<\/div>/);
  assert.match(html, /v1 → v2: 2 lines changed/);
  assert.match(html, /<svg[^>]*aria-label="Graph of workflow pap-red-and-tlp-red-blocking"/);
  const missing = await client.page("/workflows/01HZZZZZZZZZZZZZZZZZZZZZZZ");
  assert.equal(missing.response.status, 404);
});

Deno.test("the dry-run form runs a pasted or uploaded event and opens its run", async (t) => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const client = await signedIn(test);
  const dryRun = (form: FormData) =>
    client.request(`/workflows/${id}/dry-run`, {
      method: "POST",
      headers: { Origin: ORIGIN },
      body: form,
    });
  await t.step("an uploaded real event from ../shared/data: allowed", async () => {
    const form = new FormData();
    form.set("_csrf", client.csrf);
    form.set("event", "");
    form.set(
      "event_file",
      new File([await readSharedData("misp-event-pymisp-sighting_2.json")], "event.json"),
    );
    const response = await dryRun(form);
    assert.equal(response.status, 303);
    const { html } = await client.page(response.headers.get("Location")!);
    assert.match(html, /data-outcome="success"/);
    assert.match(html, /dry run/);
  });
  await t.step("a pasted tlp:red event: blocked, deciding node marked", async () => {
    const form = new FormData();
    form.set("_csrf", client.csrf);
    form.set("event", JSON.stringify(await realEvent({ tlpRed: true })));
    const response = await dryRun(form);
    const { html } = await client.page(response.headers.get("Location")!);
    assert.match(html, /data-outcome="blocked"/);
    assert.match(html, /class="node node-action blocking visited deciding"/);
  });
  await t.step("not JSON, or no event: 400 saying why", async () => {
    for (
      const [text, message] of [["{nope", /not valid JSON/], ["", /Paste an event/], [
        "[1]",
        /must be a JSON object/,
      ]] as const
    ) {
      const form = new FormData();
      form.set("_csrf", client.csrf);
      form.set("event", text);
      const response = await dryRun(form);
      assert.equal(response.status, 400);
      assert.match(await response.text(), message);
    }
  });
  await t.step("the dry runs are stored as dry runs and audited", async () => {
    const runs = (await (await test.admin("/api/runs")).json()).items;
    assert.equal(runs.length, 2);
    assert.ok(runs.every((run: { dry_run: boolean }) => run.dry_run));
    const actions = (await listAudit(test.kv)).items.map((entry) => entry.action);
    assert.equal(actions.filter((action) => action === "workflow.dry_run").length, 2);
  });
});

Deno.test("the replay button re-runs a run dry and opens the new run", async () => {
  await using test = await startTestApp();
  await importRedBlueprint(test);
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent({ tlpRed: true }));
  const client = await signedIn(test);
  const [original] = (await (await test.admin("/api/runs")).json()).items;
  await client.page(`/runs/${original.id}`);
  const response = await client.post(`/runs/${original.id}/replay`, { mode: "original" });
  assert.equal(response.status, 303);
  const replayId = response.headers.get("Location")!.split("/").at(-1)!;
  const replay = await (await test.admin(`/api/runs/${replayId}`)).json();
  assert.equal(replay.replay_of, original.id);
  assert.equal(replay.dry_run, true);
  assert.equal(replay.outcome, "blocked");
  assert.equal(replay.actor.id, "console:admin");
});

Deno.test("the runs page filters and pages with a cursor", async (t) => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const clean = await realEvent();
  for (let i = 0; i < 51; i++) {
    await mispQuery(test, "flowgate_enrichment_before_query", clean);
  }
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent({ tlpRed: true }));
  const client = await signedIn(test);
  const rows = (html: string) => [...html.matchAll(/<tr data-run="/g)].length;
  await t.step("first page of 50, then the rest by cursor", async () => {
    const first = await client.page("/runs");
    assert.equal(rows(first.html), 50);
    const next = first.html.match(/href="(\/runs\?cursor=[^"]+)" rel="next"/)?.[1];
    assert.ok(next);
    const second = await client.page(next.replaceAll("&amp;", "&"));
    assert.equal(rows(second.html), 2);
    assert.doesNotMatch(second.html, /rel="next"/);
  });
  await t.step("filters: outcome, workflow, trigger, event, time", async () => {
    assert.equal(rows((await client.page("/runs?outcome=blocked")).html), 1);
    assert.equal(rows((await client.page(`/runs?workflow=${id}&outcome=blocked`)).html), 1);
    assert.equal(rows((await client.page("/runs?trigger=event-publish")).html), 0);
    const uuid = (clean.Event as { uuid: string }).uuid;
    assert.equal(rows((await client.page(`/runs?event=${uuid}&outcome=success`)).html), 50);
    assert.equal(rows((await client.page("/runs?until=2000-01-01T00:00")).html), 0);
    const bad = await client.page("/runs?since=yesterday-ish&outcome=meh");
    assert.match(bad.html, /Invalid &quot;since&quot; time/);
    assert.match(bad.html, /Unknown outcome/);
  });
});

Deno.test("without the approval service the approvals page says approvals are not enabled", async () => {
  await using test = await startTestApp();
  const client = await signedIn(test);
  const { response, html } = await client.page("/approvals");
  assert.equal(response.status, 200);
  assert.match(html, /Approvals are not enabled/);
  assert.doesNotMatch(html, /Approve<\/button>/);
  assert.equal((await client.post("/approvals/x", { decision: "approve" })).status, 503);
});

/** Parks the approval setup's tlp:amber event; returns the approval id. */
async function park(setup: ApprovalSetup): Promise<string> {
  const answer = await setup.publish();
  assert.equal(answer.status, 403);
  const id = /awaiting approval ([0-9A-Z]{26})/.exec(JSON.stringify(answer.body))?.[1];
  assert.ok(id);
  return id;
}

Deno.test("the approvals page lists pending approvals first and decides as the admin", async (t) => {
  await using setup = await startApprovalSetup();
  const client = await signedIn(setup.test);
  const id = await park(setup);
  await t.step("a pending approval: event, reason, votes so far, buttons", async () => {
    const { html } = await client.page("/approvals");
    const card = html.slice(html.indexOf(`data-approval="${id}"`));
    assert.match(card, /pending/);
    assert.match(card, /needs a second pair of eyes/);
    assert.match(card, /5c6ab833-676c-42f3-95d2-034f0a00020f/);
    assert.match(card, /tlp:amber/);
    assert.match(card, /nobody yet/);
    assert.match(card, /\(0 of 1\)/);
    assert.match(card, /value="approve"/);
  });
  await t.step("without the CSRF token nothing is decided", async () => {
    const refused = await client.post(`/approvals/${id}`, { decision: "approve", _csrf: "x" });
    assert.equal(refused.status, 403);
    assert.equal((await getApproval(setup.test.kv, id))?.state, "pending");
  });
  await t.step("approve: approved by console:admin and published through MISP", async () => {
    const response = await client.post(`/approvals/${id}`, {
      decision: "approve",
      reason: "checked <b>by hand</b>",
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("Location"), `/approvals#approval-${id}`);
    const approval = await getApproval(setup.test.kv, id);
    assert.equal(approval?.state, "approved");
    assert.deepEqual(approval?.votes.map((vote) => vote.actor), ["console:admin"]);
    assert.equal(setup.misp.event("1")?.published, true);
    const { html } = await client.page("/approvals");
    assert.match(html, /approve by console:admin/);
    assert.match(html, /checked &lt;b&gt;by hand&lt;\/b&gt;/);
    assert.doesNotMatch(html, /value="approve"/);
  });
});

Deno.test("denying from the approvals page keeps the event unpublished", async () => {
  await using setup = await startApprovalSetup();
  const client = await signedIn(setup.test);
  const id = await park(setup);
  const response = await client.post(`/approvals/${id}`, { decision: "deny" });
  assert.equal(response.status, 303);
  const approval = await getApproval(setup.test.kv, id);
  assert.equal(approval?.state, "denied");
  assert.equal(approval?.decision?.actor, "console:admin");
  assert.equal(setup.misp.event("1")?.published, false);
});

Deno.test("the approvals page refuses decisions the approval's rules forbid", async (t) => {
  await using setup = await startApprovalSetup({ approvers: "[slack:U9]" });
  const client = await signedIn(setup.test);
  const id = await park(setup);
  await t.step("the console admin is not on the approver list: 403 with the rule", async () => {
    const response = await client.post(`/approvals/${id}`, { decision: "approve" });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /is not an approver/);
    assert.equal((await getApproval(setup.test.kv, id))?.state, "pending");
  });
  await t.step("an unknown decision: 400", async () => {
    assert.equal((await client.post(`/approvals/${id}`, { decision: "maybe" })).status, 400);
  });
});

Deno.test("console pages stay small, script-free and send security and cache headers", async () => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  // The real event's attributes 500 times over (1,000 attributes): a big input to fold.
  const big = await realEvent({ tlpRed: true });
  const event = big.Event as { Attribute: unknown[] };
  event.Attribute = Array.from({ length: 500 }, () => event.Attribute).flat();
  await mispQuery(test, "flowgate_enrichment_before_query", big);
  const client = await signedIn(test);
  const [run] = (await (await test.admin("/api/runs")).json()).items;
  const css = await client.request(CONSOLE_CSS_PATH);
  assert.equal(css.status, 200);
  assert.match(css.headers.get("Content-Type")!, /^text\/css/);
  assert.match(css.headers.get("Cache-Control")!, /immutable/);
  const cssBytes = (await css.arrayBuffer()).byteLength;
  const signedOut = new ConsoleClient(test);
  const pages = [
    ["/sign-in", signedOut],
    ["/workflows", client],
    [`/workflows/${id}`, client],
    ["/runs", client],
    [`/runs/${run.id}`, client],
    ["/approvals", client],
  ] as const;
  for (const [path, as] of pages) {
    const response = await as.request(path);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("Content-Type")!, /^text\/html/);
    const csp = response.headers.get("Content-Security-Policy");
    assert.equal(csp, CONSOLE_CSP);
    assert.doesNotMatch(csp!, /unsafe-inline/);
    assert.equal(response.headers.get("Cache-Control"), "no-store");
    assert.equal(response.headers.get("X-Frame-Options"), "DENY");
    const html = await response.text();
    assert.ok(html.startsWith("<!DOCTYPE html>"), path);
    assert.doesNotMatch(html, /<script|style="/i, path);
    const bytes = new TextEncoder().encode(html).length + cssBytes;
    assert.ok(bytes < PAGE_BUDGET_BYTES, `${path} takes ${bytes} bytes`);
  }
  const input = await client.request(`/runs/${run.id}/input.json`);
  assert.deepEqual(await input.json(), big);
});
