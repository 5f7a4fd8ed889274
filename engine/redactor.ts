/**
 * Replaces secret values (API keys, tokens, `secret: true` params) in trace text and action
 * records, so a trace can be shown in chat or the console without leaking them.
 *
 * @module
 */

/** Shortest value treated as a secret; shorter ones would mangle ordinary text. */
const MIN_SECRET_LENGTH = 4;

/** Collects secret values and replaces them with `[redacted]` in strings and nested values. */
export class Redactor {
  #secrets = new Set<string>();

  /** Starts with `secrets` (e.g. `ModuleServices.secrets`). */
  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Registers one more value; non-strings and very short strings are ignored. */
  add(secret: unknown): void {
    if (typeof secret === "string" && secret.length >= MIN_SECRET_LENGTH) this.#secrets.add(secret);
  }

  /** `text` with every registered secret replaced. */
  text(text: string): string {
    let result = text;
    for (const secret of this.#secrets) result = result.replaceAll(secret, "[redacted]");
    return result;
  }

  /** A copy of `value` with every string (keys excluded) redacted. */
  value<T>(value: T): T {
    if (this.#secrets.size === 0) return value;
    return this.#deep(value) as T;
  }

  #deep(value: unknown): unknown {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.#deep(item));
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) copy[key] = this.#deep(item);
      return copy;
    }
    return value;
  }
}
