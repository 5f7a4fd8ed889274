/**
 * Secret comparison in constant time, for every surface that checks a token: the admin and hook
 * tokens, the console's CSRF token, Telegram's webhook secret.
 *
 * @module
 */

/** Compares two secrets in time independent of where they differ (SHA-256 of both, then XOR). */
export async function constantTimeEquals(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return difference === 0;
}
