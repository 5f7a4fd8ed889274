/**
 * The one SHA-256 helper of the engine and its modules: action records carry a `body_digest` so
 * a trace shows what was sent without storing the body.
 *
 * @module
 */

/** SHA-256 of `text` (UTF-8) as lowercase hex, for `body_digest` and fingerprints. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
