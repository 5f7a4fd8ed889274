/**
 * Chat messages as a neutral structure (title, fields, text and code blocks, buttons) that the
 * Slack and Telegram renderers translate; the commands and announcements only build these.
 *
 * @module
 */

import {
  describePublicationChanges,
  type PublicationChanges,
} from "../engine/publication_changes.ts";

/** A label and a value shown side by side. */
export interface CardField {
  label: string;
  value: string;
}

/** A paragraph of plain text, or preformatted text (traces). */
export interface CardBlock {
  kind: "text" | "code";
  text: string;
}

/** The actions a card button triggers. */
export type CardAction = "approve" | "deny" | "replay" | "trace";

/** A button: the action and the value it carries (a run id). */
export interface CardButton {
  action: CardAction;
  label: string;
  value: string;
  style?: "primary" | "danger";
}

/** A chat message. Every string is plain text: renderers escape it for their platform. */
export interface Card {
  title?: string;
  fields: CardField[];
  blocks: CardBlock[];
  buttons: CardButton[];
  /** Only the caller sees it (Slack ephemeral); Telegram has no such thing and ignores it. */
  private?: boolean;
}

/** Every card action, to validate button payloads. */
export const CARD_ACTIONS: readonly CardAction[] = ["approve", "deny", "replay", "trace"];

/** A card of plain text paragraphs, the shape of most command answers. */
export function textCard(text: string, options: { title?: string; private?: boolean } = {}): Card {
  return {
    ...(options.title ? { title: options.title } : {}),
    fields: [],
    blocks: [{ kind: "text", text }],
    buttons: [],
    ...(options.private ? { private: true } : {}),
  };
}

/** Cuts `text` to `max` characters, marking the cut, so a message stays under platform limits. */
export function truncateText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** The card as plain text (Slack's notification fallback, logs, tests). */
export function cardToPlainText(card: Card): string {
  const lines: string[] = [];
  if (card.title) lines.push(card.title);
  for (const field of card.fields) lines.push(`${field.label}: ${field.value}`);
  for (const block of card.blocks) lines.push(block.text);
  return lines.join("\n");
}

/**
 * Longest "what this publication sends out" block, in characters: well under Telegram's budget
 * for a code block (2,400) and Slack's section (3,000), so neither platform cuts it mid-line.
 */
export const MAX_CHANGES_BLOCK_CHARS = 1_600;

/**
 * What an approval's publication sends out, as a card block: counts per kind and, when the chat
 * may see the event's content (`values`), the first changed items; whole lines are dropped past
 * `MAX_CHANGES_BLOCK_CHARS`.
 */
export function publicationChangesBlock(
  changes: PublicationChanges,
  options: { values: boolean },
): CardBlock {
  const lines = [
    "What this publication sends out:",
    ...describePublicationChanges(changes, { values: options.values }),
  ];
  if (!options.values) {
    lines.push("(values withheld: this chat is not cleared for the event's TLP)");
  }
  const kept: string[] = [];
  let size = 0;
  for (const [index, line] of lines.entries()) {
    const left = lines.length - index;
    if (size + line.length + 1 > MAX_CHANGES_BLOCK_CHARS - 80) {
      kept.push(`… ${left} more line${left === 1 ? "" : "s"}: see the approval in the console`);
      break;
    }
    kept.push(line);
    size += line.length + 1;
  }
  return { kind: "code", text: kept.join("\n") };
}
