import assert from "node:assert/strict";
import { appendAudit, listAudit } from "../../store/audit.ts";
import type { AuditEntry } from "../../store/types.ts";

Deno.test("appendAudit() appends entries that listAudit() pages newest first", async () => {
  using kv = await Deno.openKv(":memory:");
  const start = Date.parse("2026-11-27T00:00:00Z");
  const written: AuditEntry[] = [];
  for (let i = 0; i < 7; i++) {
    written.push(
      await appendAudit(kv, {
        actor: "api:admin",
        action: "workflow.disable",
        target: `wf-${i}`,
        details: { i },
      }, { now: new Date(start + i * 1_000) }),
    );
  }
  assert.equal(written[0]?.at, new Date(start).toISOString());
  const first = await listAudit(kv, { limit: 3 });
  assert.deepEqual(first.items.map((entry) => entry.target), ["wf-6", "wf-5", "wf-4"]);
  const second = await listAudit(kv, { limit: 3, cursor: first.cursor! });
  assert.deepEqual(second.items.map((entry) => entry.target), ["wf-3", "wf-2", "wf-1"]);
  const third = await listAudit(kv, { limit: 3, cursor: second.cursor! });
  assert.deepEqual(third, { items: [written[0]] });
});

Deno.test("listAudit() hides entries older than the audit retention", async () => {
  using kv = await Deno.openKv(":memory:");
  await appendAudit(kv, { actor: "api:admin", action: "workflow.create" });
  const nextYear = new Date(Date.now() + 366 * 86_400_000);
  assert.equal((await listAudit(kv)).items.length, 1);
  assert.deepEqual(await listAudit(kv, { now: nextYear }), { items: [] });
});
