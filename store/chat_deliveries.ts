/**
 * De-duplication markers for chat deliveries: Slack retries (`event_id`, a button press) and
 * Telegram `update_id`s are claimed once, and a second delivery of the same thing does nothing.
 *
 * @module
 */

/** Markers: `["chat_deliveries", platform, key]` → claim time, expiring after the window. */
export const KEY_CHAT_DELIVERIES = "chat_deliveries";
/** How long a delivery is remembered (Slack retries for about an hour; Telegram for a day). */
export const CHAT_DELIVERY_WINDOW_MS = 86_400_000;

/**
 * Claims one delivery: true for the first claim of `key` within the window, false for a repeat.
 * Atomic, so two concurrent deliveries of the same thing cannot both win.
 */
export async function claimChatDelivery(
  kv: Deno.Kv,
  platform: string,
  key: string,
  options: { now?: number; windowMs?: number } = {},
): Promise<boolean> {
  const now = options.now ?? Date.now();
  const windowMs = options.windowMs ?? CHAT_DELIVERY_WINDOW_MS;
  const markerKey = [KEY_CHAT_DELIVERIES, platform, key];
  const existing = await kv.get<number>(markerKey);
  // expireIn is only the earliest purge time, so the claim time decides whether it still counts.
  if (existing.value !== null && now - existing.value < windowMs) return false;
  const result = await kv.atomic().check(existing).set(markerKey, now, { expireIn: windowMs })
    .commit();
  return result.ok;
}
