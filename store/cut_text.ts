/**
 * Cutting long texts to a cap with a visible marker that says how much was left out and where the
 * whole text is, so a reader never mistakes a cut text for the whole one.
 *
 * @module
 */

/** `312000` → `"312,000"`, independent of the process locale. */
function groupDigits(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * The marker that ends a cut text or list.
 *
 * @param count how many characters (or items) were left out
 * @param options `unit` (default "characters") and `where` the whole text is kept, if anywhere
 * @returns e.g. `… [cut: 312,000 more characters; whole text in the run's input]`
 */
export function cutMarker(count: number, options: { unit?: string; where?: string } = {}): string {
  const where = options.where === undefined ? "" : `; whole text in ${options.where}`;
  return `… [cut: ${groupDigits(count)} more ${options.unit ?? "characters"}${where}]`;
}

/** Options of `cutText`. */
export interface CutTextOptions {
  /** Where the whole text is kept, named in the marker ("the run's input"). */
  where?: string;
  /**
   * Length of the whole text when `text` is only its beginning (built without the rest), so the
   * marker counts what the whole text left out.
   */
  totalChars?: number;
}

/**
 * `text` when it has at most `maxChars` UTF-16 code units, else its first `maxChars` (never half a
 * surrogate pair) followed by `cutMarker`. The result may exceed `maxChars` by the marker's length.
 */
export function cutText(text: string, maxChars: number, options: CutTextOptions = {}): string {
  const total = Math.max(text.length, options.totalChars ?? 0);
  if (total <= maxChars) return text;
  let end = Math.min(text.length, Math.max(0, Math.floor(maxChars)));
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  const where = options.where === undefined ? {} : { where: options.where };
  return text.slice(0, end) + cutMarker(total - end, where);
}
