/**
 * The one SHA-256 helper of the engine and its modules: action records carry a `body_digest` so
 * a trace shows what was sent without storing the body.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * SHA-256 of `text` (UTF-8) as lowercase hex, for `body_digest` and fingerprints. Hashed on the
 * calling thread: for the small texts hashed here that costs microseconds, where handing them to
 * `crypto.subtle`'s worker thread cost the server a tenth of a millisecond each under load.
 */
export function sha256Hex(text: string): Promise<string> {
  return Promise.resolve(createHash("sha256").update(text, "utf8").digest("hex"));
}
