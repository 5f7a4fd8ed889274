import assert from "node:assert/strict";
import { type Card, cardToPlainText, textCard } from "../../../bot/cards.ts";
import { runCommand } from "../../../bot/commands.ts";
import { type ChatCommand, commandUsage } from "../../../bot/commands/command.ts";
import { helpCommand } from "../../../bot/commands/help.ts";
import { COMMANDS } from "../../../bot/commands/mod.ts";
import type { ChatCore, ChatIdentity } from "../../../bot/core.ts";
import { hasRole } from "../../../bot/roles.ts";
import { listAudit } from "../../../store/audit.ts";
import type { ChatRole } from "../../../store/chat_roles.ts";
import type { AuditEntry } from "../../../store/types.ts";
import { startTestApp, type TestApp } from "../../server/test_app.ts";
import { openCommandRoom, ROOM, USERS } from "../command_room.ts";

/** The chat surface as it stands: what each role may run, in help order. */
const SURFACE: Record<ChatRole, string[]> = {
  viewer: ["list", "runs", "run", "why", "status"],
  responder: ["list", "runs", "run", "why", "status", "replay", "approve", "deny"],
  admin: [
    "list",
    "runs",
    "run",
    "why",
    "status",
    "replay",
    "approve",
    "deny",
    "enable",
    "disable",
  ],
};

function setup(test: TestApp): Promise<ChatCore> {
  return openCommandRoom(test);
}

function as(userId: string): ChatIdentity {
  return { platform: "slack", userId, chatId: ROOM, direct: false };
}

async function lastAudit(test: TestApp): Promise<AuditEntry> {
  const [entry] = (await listAudit(test.kv, { limit: 1 })).items;
  assert.ok(entry, "an audit entry");
  return entry;
}

/** The `usage: summary` lines of a help card, without the title. */
function helpLines(card: Card): string[] {
  return card.blocks.flatMap((block) => block.text.split("\n"));
}

Deno.test("COMMANDS names each command once, in lower case, with a summary", () => {
  const names = COMMANDS.map((command) => command.name);
  assert.equal(new Set(names).size, names.length);
  for (const command of COMMANDS) {
    assert.equal(command.name, command.name.toLowerCase());
    assert.match(command.name, /^[a-z0-9_]+$/, "Telegram command names are [a-z0-9_]");
    assert.notEqual(command.summary, "");
  }
  assert.deepEqual(names.filter((name) => name !== "help"), SURFACE.admin);
});

Deno.test("runCommand() reaches every command of the registry by its name", async (t) => {
  await using test = await startTestApp();
  const core = await setup(test);
  for (const command of COMMANDS) {
    await t.step(command.name, async () => {
      const text = cardToPlainText(await runCommand(core, as(USERS.admin), command.name));
      assert.doesNotMatch(text, /Unknown command/);
      const audit = await lastAudit(test);
      assert.equal(audit.action, "chat.command");
      assert.equal(audit.details?.command, command.name);
      // Without arguments a command answers or explains its usage; it is never unknown.
      assert.ok(["ok", "error"].includes(String(audit.details?.outcome)), text);
    });
  }
});

Deno.test("help lists exactly the commands the caller's role allows", async (t) => {
  await using test = await startTestApp();
  const core = await setup(test);
  for (const [role, user] of Object.entries(USERS) as [ChatRole, string][]) {
    await t.step(role, async () => {
      const card = await runCommand(core, as(user), "help");
      assert.equal(card.title, `Flowgate (${role})`);
      assert.equal(card.private, true);
      const expected = COMMANDS.filter((command) =>
        command.role !== null && hasRole(role, command.role)
      );
      assert.deepEqual(
        helpLines(card),
        expected.map((command) => `${commandUsage(command)}: ${command.summary}`),
      );
      assert.deepEqual(expected.map((command) => command.name), SURFACE[role]);
      assert.deepEqual(await runCommand(core, as(user), ""), card);
    });
  }
  await t.step("nobody without a role", async () => {
    const text = cardToPlainText(await runCommand(core, as("UNOBODY"), "help"));
    assert.match(text, /You cannot use Flowgate here: you have no Flowgate role\./);
    assert.match(text, /grant slack user "UNOBODY" a role and allow chat "C0ROOM"/);
  });
});

Deno.test("runCommand() refuses a command below its role, as the registry says", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  for (const command of COMMANDS) {
    if (command.role === null) continue;
    const args = ["x"];
    const needed = command.roleFor?.(args) ?? command.role;
    if (needed === "viewer") continue;
    const line = [command.name, ...args].join(" ");
    const text = cardToPlainText(await runCommand(core, as(USERS.viewer), line));
    assert.equal(
      text,
      `Not allowed: "${command.name}" needs the ${needed} role and you are viewer.`,
    );
    assert.equal((await lastAudit(test)).details?.outcome, "refused");
  }
  const live = cardToPlainText(await runCommand(core, as(USERS.responder), "replay x"));
  assert.match(live, /"replay" needs the admin role and you are responder/);
});

Deno.test("runCommand() answers an unknown command with the caller's help", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  const card = await runCommand(core, as(USERS.responder), "Frobnicate now");
  const help = await runCommand(core, as(USERS.responder), "help");
  assert.deepEqual(card, {
    ...help,
    blocks: [{ kind: "text", text: 'Unknown command "frobnicate".' }, ...help.blocks],
  });
  const audit = await lastAudit(test);
  assert.deepEqual(audit.details, {
    platform: "slack",
    user: USERS.responder,
    chat: ROOM,
    command: "help",
    args: [],
    outcome: "ok",
  });
  const unknown = (await listAudit(test.kv, { limit: 2 })).items[1]!;
  assert.equal(unknown.target, "now");
  assert.equal(unknown.details?.command, "frobnicate");
  assert.equal(unknown.details?.outcome, "unknown");
});

Deno.test("runCommand() derives dispatch and help from the registry it is given", async () => {
  await using test = await startTestApp();
  const core = await setup(test);
  const calls: string[][] = [];
  const ping: ChatCommand = {
    name: "ping",
    role: "responder",
    args: "[words]",
    summary: "answers pong",
    run: ({ args }) => {
      calls.push([...args]);
      return Promise.resolve(textCard("pong"));
    },
  };
  const commands = [ping, helpCommand];
  const say = async (user: string, text: string) =>
    cardToPlainText(await runCommand(core, as(user), text, { commands }));

  assert.equal(await say(USERS.responder, "PING a b"), "pong");
  assert.deepEqual(calls, [["a", "b"]]);
  assert.equal(await say(USERS.admin, "help"), "Flowgate (admin)\nping [words]: answers pong");
  assert.match(await say(USERS.viewer, "ping"), /"ping" needs the responder role/);
  assert.match(await say(USERS.admin, "list"), /^Flowgate \(admin\)\nUnknown command "list"\./);
  assert.equal(calls.length, 1);
});
