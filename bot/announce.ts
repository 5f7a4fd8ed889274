/**
 * Announcements: when a blocking workflow blocks, a card goes to the chats subscribed to that
 * workflow (or to every announcement chat), and every copy is edited in place when someone acts
 * on it.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import {
  addChatCardMessages,
  type ChatCardEvent,
  type ChatMessageRef,
  getChatCard,
} from "../store/chat_cards.ts";
import { type ChatVenue, getChatVenue, listChatVenues } from "../store/chat_roles.ts";
import { getRun, getRunInput } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import type { ApprovalRecord } from "../store/approvals.ts";
import { chatApprovals, watchApprovals } from "./approvals.ts";
import { type Card, type CardButton, publicationChangesBlock } from "./cards.ts";
import type { ChatCore } from "./core.ts";
import { decidingLine, eventLine, markingLine, reasonLine, type RunView } from "./run_text.ts";
import { classifyData, DEFAULT_CHAT_MAX_TLP, isCleared, withheldNotice } from "../services/tlp.ts";

/** What a card shows besides the run: the org, the approval, what happened since. */
export interface BlockedRunCardOptions {
  org?: string;
  events?: ChatCardEvent[];
  /** The approval the run is parked on (pending-approval runs). */
  approval?: ApprovalRecord | null;
}

/** Outcomes announced: a block, and a block that waits for an approval. */
const ANNOUNCED_OUTCOMES = new Set<RunRecord["outcome"]>(["blocked", "pending-approval"]);

/** The card of a blocked or parked run as one chat may see it, with what happened to it since. */
export function blockedRunCard(
  run: RunRecord,
  view: RunView,
  options: BlockedRunCardOptions = {},
): Card {
  const events = options.events ?? [];
  const { approval } = options;
  const deciding = decidingLine(run);
  const decided = events.some((event) => event.final) ||
    (approval !== undefined && approval !== null && approval.state !== "pending");
  const buttons: CardButton[] = [];
  if (!decided && approval) {
    buttons.push(
      { action: "approve", label: "Approve", value: run.id, style: "primary" },
      { action: "deny", label: "Deny", value: run.id, style: "danger" },
    );
  }
  if (!decided) {
    buttons.push(
      { action: "replay", label: "Replay (dry)", value: run.id },
      { action: "trace", label: "Trace", value: run.id },
    );
  }
  const approvalFields = approval
    ? [{
      label: "Approval",
      value: `${approval.id}: ${approval.state}, ${approval.votes.length} of ` +
        `${approval.policy.quorum} vote(s), times out ${approval.timeout_at}`,
    }]
    : [];
  return {
    title: `${run.outcome === "pending-approval" ? "Awaiting approval" : "Blocked"}: ` +
      run.workflow_name,
    fields: [
      { label: "Event", value: eventLine(run, view) },
      {
        label: "Org",
        value: view.cleared ? (options.org ?? "unknown") : withheldNotice(view.marking.tlp, run.id),
      },
      { label: "TLP / PAP", value: markingLine(view.marking) },
      { label: "Trigger", value: run.trigger },
      { label: "Deciding node", value: deciding ?? "none recorded" },
      { label: "Reason", value: reasonLine(run, view) },
      { label: "Run", value: run.id },
      ...approvalFields,
    ],
    blocks: [
      ...(approval?.changes
        ? [publicationChangesBlock(approval.changes, { values: view.cleared })]
        : []),
      ...events.map((event) => ({
        kind: "text" as const,
        text: `${event.summary}: by ${event.by} at ${event.at}`,
      })),
    ],
    buttons,
  };
}

/**
 * Posts the card of a blocked run to every subscribed chat and remembers the message ids; a chat
 * that fails is logged and skipped. Resolves with the copies posted.
 */
export async function announceRun(core: ChatCore, run: RunRecord): Promise<ChatMessageRef[]> {
  const venues = (await listChatVenues(core.ctx.kv)).filter((venue) =>
    venue.announce && core.senders.has(venue.platform) && isSubscribed(venue, run)
  );
  if (venues.length === 0) return [];
  const input = await getRunInput(core.ctx.kv, run.id);
  const approval = await approvalOf(core, run);
  const posted: ChatMessageRef[] = [];
  for (const venue of venues) {
    const sender = core.senders.get(venue.platform)!;
    try {
      const card = blockedRunCard(run, viewFor(input, venue), { org: orgOf(input), approval });
      const messageId = await sender.postCard(venue.chat_id, card);
      posted.push({ platform: venue.platform, "chat_id": venue.chat_id, "message_id": messageId });
    } catch (error) {
      log.error("Cannot announce a blocked run", {
        run_id: run.id,
        platform: venue.platform,
        chat: venue.chat_id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  if (posted.length > 0) {
    await addChatCardMessages(core.ctx.kv, run.id, posted);
    // A decision taken while the cards were being posted found no card to edit: catch up now.
    if (approval?.state === "pending" && (await approvalOf(core, run))?.state !== "pending") {
      await refreshCard(core, run.id);
    }
  }
  return posted;
}

/**
 * Announces a blocked run without making the caller wait: for the verdict path, which must not
 * pay for chat round trips. Errors are logged.
 */
export function announceBlockedRun(core: ChatCore, run: RunRecord): void {
  if (!ANNOUNCED_OUTCOMES.has(run.outcome) || run.dry_run) return;
  announceRun(core, run).catch((error) => {
    log.error("Announcing a blocked run failed", {
      run_id: run.id,
      error: error instanceof Error ? error.message : String(error),
    });
  });
}

/** Re-renders every posted copy of a run's card with its events (buttons gone after a decision). */
export async function refreshCard(core: ChatCore, runId: string): Promise<number> {
  const card = await getChatCard(core.ctx.kv, runId);
  const run = await getRun(core.ctx.kv, runId);
  if (!card || !run) return 0;
  const input = await getRunInput(core.ctx.kv, runId);
  const approval = await approvalOf(core, run);
  let edited = 0;
  for (const message of card.messages) {
    const sender = core.senders.get(message.platform);
    if (!sender) continue;
    const venue = await getChatVenue(core.ctx.kv, message.platform, message.chat_id);
    try {
      await sender.editCard(
        message.chat_id,
        message.message_id,
        blockedRunCard(run, viewFor(input, venue), {
          org: orgOf(input),
          events: card.events,
          approval,
        }),
      );
      edited++;
    } catch (error) {
      log.error("Cannot edit a chat card", {
        run_id: runId,
        platform: message.platform,
        chat: message.chat_id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return edited;
}

/** The approval a parked run waits on, when the server runs approvals. */
async function approvalOf(core: ChatCore, run: RunRecord): Promise<ApprovalRecord | null> {
  if (run.outcome !== "pending-approval") return null;
  const service = chatApprovals(core);
  if (!service) return null;
  watchApprovals(core);
  return await service.approvalOfRun(run.id);
}

function isSubscribed(venue: ChatVenue, run: RunRecord): boolean {
  const workflows = venue.workflows ?? [];
  return workflows.length === 0 || workflows.includes(run.workflow_id) ||
    workflows.includes(run.workflow_name);
}

function viewFor(input: unknown, venue: ChatVenue | null): RunView {
  const chatMax = venue?.max_tlp ?? DEFAULT_CHAT_MAX_TLP;
  if (input === null) return { marking: {}, cleared: chatMax === "red" };
  const marking = classifyData(input);
  return { marking, cleared: isCleared(marking.tlp, chatMax) };
}

function orgOf(input: unknown): string | undefined {
  const event = (input as { Event?: Record<string, unknown> } | null)?.Event;
  for (const key of ["Orgc", "Org"]) {
    const org = event?.[key] as { name?: unknown } | undefined;
    if (typeof org?.name === "string") return org.name;
  }
  return undefined;
}
