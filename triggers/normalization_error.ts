/**
 * The error every trigger normalisation throws when MISP's data is not what the trigger needs.
 *
 * @module
 */

/**
 * Thrown when data cannot be normalised (a JSON array, a string, an event-less object for an event
 * trigger…). A `TypeError` because the input has the wrong shape; `trigger` names the trigger when
 * the normalisation was done for one.
 */
export class NormalizationError extends TypeError {
  /** The trigger whose normalisation failed, when known. */
  readonly trigger: string | undefined;

  /** Creates the error; `message` is the whole one-line message. */
  constructor(message: string, options?: ErrorOptions & { trigger?: string }) {
    super(message, options);
    this.name = "NormalizationError";
    this.trigger = options?.trigger;
  }
}
