/**
 * What one template render may spend: loop iterations, output, characters built by filters, and
 * time (the per-render cap, the caller's deadline, the run's abort signal). Renders are
 * synchronous, so the runtime hooks and filters find the active budget here instead of threading
 * it through nunjucks.
 *
 * @module
 */

import {
  MAX_TEMPLATE_BUILT,
  MAX_TEMPLATE_ITERATIONS,
  MAX_TEMPLATE_OUTPUT,
  MAX_TEMPLATE_RENDER_MS,
} from "./limits.ts";

/** Cheap steps (`RenderBudget.step`) between two looks at the clock. */
const STEPS_PER_CHECK = 16;

/** A render passed one of its caps; the message names what and the limit. */
export class TemplateLimitError extends RangeError {
  /** Builds the error with a message such as `Filter "center" would build …`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TemplateLimitError";
  }
}

/** Options of one render's budget. */
export interface RenderBudgetOptions {
  /** Stops the render once aborted (the run's deadline passed). */
  signal?: AbortSignal;
  /** `performance.now()` time the render must be done by (the verdict deadline). */
  deadline?: number;
}

/** The counters and clock of one render. */
export class RenderBudget {
  #iterations = 0;
  #output = 0;
  #built = 0;
  #steps = 0;
  readonly #stopAt: number;
  readonly #stopReason: string;
  readonly #signal: AbortSignal | undefined;
  #weights: WeakMap<object, number> = new WeakMap();

  /** Starts the clock: the render may run `MAX_TEMPLATE_RENDER_MS`, or until the deadline. */
  constructor(options: RenderBudgetOptions = {}) {
    const cap = performance.now() + MAX_TEMPLATE_RENDER_MS;
    if (options.deadline !== undefined && options.deadline <= cap) {
      this.#stopAt = options.deadline;
      this.#stopReason = "rendering took longer than the verdict deadline";
    } else {
      this.#stopAt = cap;
      this.#stopReason = `rendering took longer than ${MAX_TEMPLATE_RENDER_MS} ms`;
    }
    this.#signal = options.signal;
  }

  /** Serialised sizes of the values this render measured (see `weightOf`). */
  get weights(): WeakMap<object, number> {
    return this.#weights;
  }

  /**
   * Forgets every measured size: a template changed a namespace in place, so the sizes of the
   * values holding it may have grown since they were measured.
   */
  forgetWeights(): void {
    this.#weights = new WeakMap();
  }

  /** Characters of output still allowed. */
  get outputRoom(): number {
    return MAX_TEMPLATE_OUTPUT - this.#output;
  }

  /**
   * Called by every loop iteration, filter, operator and output: throws once the render's time is
   * up or its run was aborted, so a slow template stops at the deadline instead of blocking it.
   */
  tick(): void {
    if (this.#signal?.aborted) {
      const reason = this.#signal.reason;
      const why = reason instanceof Error ? reason.message : String(reason ?? "aborted");
      throw new TemplateLimitError(`Rendering stopped: the run was aborted (${why})`);
    }
    if (performance.now() >= this.#stopAt) throw new TemplateLimitError(this.#stopReason);
  }

  /**
   * `tick()` for hot paths (loop iterations, output, operators, macro calls): looks at the clock
   * every `STEPS_PER_CHECK` calls only, since each step is cheap.
   */
  step(): void {
    if (++this.#steps % STEPS_PER_CHECK === 0) this.tick();
  }

  /** Counts the iterations a loop is about to run. */
  countIterations(count: number): void {
    this.#iterations += count;
    if (this.#iterations > MAX_TEMPLATE_ITERATIONS) {
      throw new TemplateLimitError(
        `Template runs more than ${MAX_TEMPLATE_ITERATIONS} loop iterations`,
      );
    }
  }

  /** Refuses output text of `length` characters that would not fit, before it is escaped. */
  ensureOutput(length: number): void {
    if (this.#output + length > MAX_TEMPLATE_OUTPUT) {
      throw new TemplateLimitError(`Template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`);
    }
  }

  /** Counts `length` characters of output. */
  addOutput(length: number): void {
    this.ensureOutput(length);
    this.#output += length;
  }

  /**
   * Refuses, before anything is allocated, a string of `length` characters that `what` (`Filter
   * "center"`, `The "~" operator`) would build: longer than `MAX_TEMPLATE_OUTPUT` (unless no longer
   * than its input, `options.inputLength`), or more than what is left of `MAX_TEMPLATE_BUILT`.
   */
  ensureBuildable(what: string, length: number, options: BuildOptions = {}): void {
    const unit = options.unit ?? "characters";
    if (!(length <= Math.max(MAX_TEMPLATE_OUTPUT, options.inputLength ?? 0))) {
      throw new TemplateLimitError(
        `${what} would build ${options.atLeast ? "at least " : ""}${
          formatCount(length)
        } ${unit}, ` +
          `more than the limit of ${MAX_TEMPLATE_OUTPUT}`,
      );
    }
    this.#ensureTotal(what, length, unit);
  }

  /** Counts `length` characters (or list slots) that `what` built towards `MAX_TEMPLATE_BUILT`. */
  addBuilt(what: string, length: number, options: BuildOptions = {}): void {
    this.#ensureTotal(what, length, options.unit ?? "characters");
    this.#built += length;
  }

  #ensureTotal(what: string, length: number, unit: string): void {
    if (!(this.#built + length <= MAX_TEMPLATE_BUILT)) {
      throw new TemplateLimitError(
        `${what} would build ${formatCount(length)} more ${unit}, past the limit of ` +
          `${MAX_TEMPLATE_BUILT} built by one render`,
      );
    }
  }
}

/** What `ensureBuildable` and `addBuilt` count. */
export interface BuildOptions {
  /** `characters` (default) or `list items`. */
  unit?: string;
  /** Length of the text the string is made from: a filter may keep a long input's length. */
  inputLength?: number;
  /** `length` is where counting stopped, not the whole length. */
  atLeast?: boolean;
}

/** `1e+21` reads worse than `1000000000000000000000` in an error; NaN and Infinity stay words. */
function formatCount(count: number): string {
  return Number.isFinite(count) && count < 1e21 ? String(Math.ceil(count)) : String(count);
}

let active: RenderBudget | null = null;

/**
 * The budget of the render in progress. Outside a render (a filter called directly) a fresh
 * budget applies, so the caps still hold.
 */
export function currentBudget(): RenderBudget {
  return active ?? new RenderBudget();
}

/** Runs `render` with `budget` active, restoring the previous one (renders may nest). */
export function withBudget<T>(budget: RenderBudget, render: () => T): T {
  const previous = active;
  active = budget;
  try {
    return render();
  } finally {
    active = previous;
  }
}
