/**
 * Group commit: concurrent callers hand in work, one commit carries everything that arrived while
 * the previous one was in flight, and each caller resumes once its own work is durable. Local KV
 * commits serialise, so this turns many small commits into few larger ones under load while a lone
 * request still commits at once.
 *
 * @module
 */

/** Commits a batch; answers one result per item, in order. */
export type BatchCommit<T, R> = (items: T[]) => Promise<R[]>;

/** Batches `submit` calls into `commit` calls. */
export class GroupCommitter<T, R> {
  readonly #commit: BatchCommit<T, R>;
  readonly #maxBatch: number;
  #pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  #running = false;

  /** `commit` writes a batch of at most `maxBatch` items. */
  constructor(commit: BatchCommit<T, R>, maxBatch: number) {
    this.#commit = commit;
    this.#maxBatch = maxBatch;
  }

  /** Hands in one item; resolves with its result once the batch holding it is committed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        // Let the callers of this tick join the first batch.
        queueMicrotask(() => this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        const results = await this.#commit(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => entry.resolve(results[i]!));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.#running = false;
  }
}
