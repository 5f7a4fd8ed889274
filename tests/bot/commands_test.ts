import assert from "node:assert/strict";
import { cardToPlainText } from "../../bot/cards.ts";
import {
  CommandUsageError,
  parseChatDuration,
  parseCommand,
  runCommand,
} from "../../bot/commands.ts";
import type { ChatCore, ChatIdentity } from "../../bot/core.ts";
import { listRuns } from "../../store/runs.ts";
import { decideVerdict } from "../../services/verdict.ts";
import { realEvent, startTestApp, type TestApp } from "../server/test_app.ts";
import { putChatRole } from "../../store/chat_roles.ts";
import { RED_GATE_YAML } from "./chat_harness.ts";
import { openCommandRoom, ROOM } from "./command_room.ts";

async function setup(test: TestApp): Promise<ChatCore> {
  const response = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: RED_GATE_YAML,
  });
  assert.equal(response.status, 201, await response.text());
  return await openCommandRoom(test);
}

function as(userId: string, chatId = ROOM): ChatIdentity {
  return { platform: "slack", userId, chatId, direct: false };
}

async function say(core: ChatCore, identity: ChatIdentity, text: string): Promise<string> {
  return cardToPlainText(await runCommand(core, identity, text));
}

async function redEvent(): Promise<Record<string, unknown>> {
  const event = await realEvent();
  const inner = event.Event as { Tag: unknown[] };
  inner.Tag = [...inner.Tag, { id: "9001", name: "tlp:red", colour: "#CC0033" }];
  return event;
}

Deno.test("parseCommand() splits the command name from its arguments", () => {
  assert.deepEqual(parseCommand("  Disable  block-red for 2h "), {
    name: "disable",
    args: ["block-red", "for", "2h"],
  });
  assert.deepEqual(parseCommand(""), { name: "help", args: [] });
});

Deno.test("parseChatDuration() reads units and sums, and refuses the rest", async (t) => {
  await t.step("valid", () => {
    assert.equal(parseChatDuration("90s"), 90_000);
    assert.equal(parseChatDuration("1h30m"), 5_400_000);
    assert.equal(parseChatDuration("2d"), 172_800_000);
  });
  await t.step("invalid", () => {
    for (const text of ["2 hours", "h", "0s", "400d", "2h-"]) {
      assert.throws(() => parseChatDuration(text), CommandUsageError, text);
    }
  });
});

Deno.test("runCommand() authorises by role, chat and grant scope", async (t) => {
  await using test = await startTestApp();
  const core = await setup(test);
  await t.step("a viewer lists but may not replay", async () => {
    assert.match(await say(core, as("UV"), "list"), /red-gate · event-publish/);
    assert.match(await say(core, as("UV"), "replay x dry"), /needs the responder role/);
  });
  await t.step("a live replay needs admin, a dry one responder", async () => {
    assert.match(await say(core, as("UR"), "replay x"), /needs the admin role/);
    assert.match(await say(core, as("UR"), "replay x dry"), /Cannot replay run "x": no such run/);
  });
  await t.step("an unknown chat allows nobody, a direct chat allows unscoped grants", async () => {
    assert.match(await say(core, as("UA", "C0OTHER"), "list"), /not allowed for Flowgate commands/);
    const direct = { ...as("UA", "D0DM"), direct: true };
    assert.match(await say(core, direct, "list"), /red-gate/);
  });
  await t.step("a grant scoped to chats holds only there", async () => {
    await putChatRole(test.kv, {
      platform: "slack",
      "user_id": "US",
      role: "admin",
      chats: ["C0ELSEWHERE"],
      "granted_by": "test",
      "granted_at": new Date().toISOString(),
    });
    assert.match(await say(core, as("US"), "list"), /does not extend to this chat/);
  });
  await t.step("unknown commands answer with the caller's help", async () => {
    const text = await say(core, as("UV"), "frobnicate");
    assert.match(text, /Unknown command "frobnicate"/);
    assert.match(text, /list: workflows/);
    assert.doesNotMatch(text, /enable/);
  });
});

Deno.test("why and run show the deciding node and the values it saw, withheld above the chat's TLP", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  const plain = await realEvent();
  const allowed = await decideVerdict(test.ctx, "event-publish", plain, {
    actor: { kind: "misp" },
  });
  assert.equal(allowed.allow, true);
  const blocked = await decideVerdict(test.ctx, "event-publish", await redEvent(), {
    actor: { kind: "misp" },
  });
  assert.equal(blocked.allow, false);

  const why = await say(core, as("UV"), "why 5c6ab833-676c-42f3-95d2-034f0a00020f");
  assert.match(why, /red-gate: blocked .*decided by stop \(stop-execution\)/);
  assert.match(why, /red-gate: success .*no node blocked/);
  assert.match(why, /tlp-red \[tag-if\] success → then saw \[withheld\]/);
  assert.match(why, /tlp-red \[tag-if\] success → else saw \{/);

  const run = await say(core, as("UV"), `run ${blocked.runIds[0]}`);
  assert.match(run, /TLP:RED content withheld from this chat/);
  assert.doesNotMatch(run, /This is the description/);
  assert.match(run, /Deciding node: stop \(stop-execution\)/);

  const byId = await say(core, as("UV"), "why 1");
  assert.match(byId, /red-gate: blocked/);
});

Deno.test("runs, replay, enable and status answer from the store", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  const verdict = await decideVerdict(test.ctx, "event-publish", await redEvent(), {
    actor: { kind: "misp" },
  });
  const runId = verdict.runIds[0]!;
  assert.match(
    await say(core, as("UV"), "runs red-gate 3"),
    new RegExp(`${runId} · red-gate · blocked`),
  );
  assert.match(await say(core, as("UV"), "runs nope"), /No workflow "nope"/);

  const replay = await say(core, as("UA"), `replay ${runId} current`);
  assert.match(replay, new RegExp(`Replay of ${runId} \\(current\\): blocked`));
  const replays = (await listRuns(test.kv)).items.filter((run) => run.replay_of === runId);
  assert.equal(replays.length, 1);
  assert.equal(replays[0]!.dry_run, false);
  assert.deepEqual(replays[0]!.actor, { kind: "chat", id: "slack:UA" });
  assert.match(await say(core, as("UA"), `replay ${runId} sideways`), /Unknown replay option/);

  assert.match(await say(core, as("UA"), "disable red-gate"), /disabled by slack:UA\./);
  assert.match(await say(core, as("UA"), "list"), /red-gate .* disabled ·/);
  assert.match(await say(core, as("UA"), "enable red-gate"), /enabled by slack:UA/);
  assert.match(await say(core, as("UA"), "disable red-gate for soon"), /Invalid duration "soon"/);

  const status = await say(core, as("UV"), "status");
  assert.match(status, /Integrations off: misp, smtp/);
  assert.match(status, /Queue depth: 0 job\(s\) waiting, 0 dead letter\(s\)/);
  assert.match(status, /Last MISP call: none in the last 200 runs/);
});

Deno.test("enable, disable and runs answer 3,000-character arguments as usage, never a failure", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  const long = "w".repeat(3_000);
  for (
    const line of [
      `enable ${long}`,
      `enable ${long} event-publish`,
      `disable ${long}`,
      `runs ${long}`,
    ]
  ) {
    const answer = await say(core, as("UA"), line);
    assert.match(answer, /No workflow "w+"/, `${line.slice(0, 20)}…: ${answer.slice(0, 200)}`);
  }
  const trigger = await say(core, as("UA"), `enable red-gate ${long}`);
  assert.doesNotMatch(trigger, /failed/, trigger.slice(0, 200));
});
