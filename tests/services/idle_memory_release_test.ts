import assert from "node:assert/strict";
import { IdleMemoryRelease } from "../../services/idle_memory_release.ts";
import { waitFor } from "../fixtures/wait_for.ts";

Deno.test("IdleMemoryRelease collects once idle with memory grown", async (t) => {
  let collections = 0;
  const MiB = 1_048_576;
  let rss = 100 * MiB;
  const release = new IdleMemoryRelease({
    idleMs: 0,
    minRssBytes: 150 * MiB,
    collect: () => {
      collections++;
      rss = 160 * MiB;
    },
    rss: () => rss,
  });
  await t.step("no idle wait runs while work is under way", () => {
    release.begin();
    release.begin();
    release.end();
    assert.equal(release.pending, false);
  });
  await t.step("below the resident floor, the idle wait collects nothing", async () => {
    release.end();
    assert.equal(release.pending, true);
    await waitFor(() => !release.pending, { what: "the idle wait" });
    assert.equal(collections, 0);
  });
  await t.step("above it, the idle wait collects", async () => {
    rss = 400 * MiB;
    release.begin();
    release.end();
    await waitFor(() => collections === 1, { what: "the idle collection" });
  });
  await t.step("not again until memory grew 16 MiB above where it came back to", async () => {
    rss = 170 * MiB;
    release.begin();
    release.end();
    await waitFor(() => !release.pending, { what: "the idle wait" });
    assert.equal(collections, 1);
    rss = 180 * MiB;
    release.begin();
    release.end();
    await waitFor(() => collections === 2, { what: "the second collection" });
  });
  await t.step("new work cancels the idle wait", () => {
    rss = 400 * MiB;
    release.begin();
    release.end();
    assert.equal(release.pending, true);
    release.begin();
    assert.equal(release.pending, false);
    assert.equal(collections, 2);
  });
});

Deno.test("IdleMemoryRelease reaches V8's collector in this runtime", () => {
  // No `collect` given: the default one must exist, or the release would silently do nothing.
  const release = new IdleMemoryRelease({ idleMs: 0, minRssBytes: 1 });
  assert.equal(release.collects, true);
});
