/**
 * Group commit: items added during one event-loop turn are written by one call of `write` (one
 * transaction), on `setImmediate`, after every frame read in that turn was handled. Each
 * `add` resolves with its own result once the whole batch committed, or rejects with the
 * batch's error: nothing is acknowledged before it is stored.
 */
export class GroupCommit<T, R> {
  private batch: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }> = []

  /** `write` answers one result per item, in order (or nothing, for results of `undefined`). */
  constructor(private readonly write: (items: T[]) => Promise<R[] | undefined>) {}

  add(item: T): Promise<R> {
    if (this.batch.length === 0) setImmediate(() => void this.flush())
    return new Promise((resolve, reject) => this.batch.push({ item, resolve, reject }))
  }

  private async flush(): Promise<void> {
    const batch = this.batch
    this.batch = []
    try {
      const results = await this.write(batch.map((b) => b.item))
      for (let i = 0; i < batch.length; i++) batch[i].resolve(results?.[i] as R)
    } catch (err) {
      for (const b of batch) b.reject(err)
    }
  }
}
