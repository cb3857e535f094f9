export interface GroupCommitOptions<T, W, R> {
  /**
   * Writes one batch, typically in one transaction. It holds one of the `maxInFlight` slots until it
   * settles; a rejection fails every item of the batch with that error.
   */
  write: (items: readonly T[]) => Promise<W>
  /**
   * Turns what a successful write returned into one result per item, in the order of `items`. It
   * runs after the slot is given back, so slow follow-up work (a cache update) never holds up the
   * next batch's write. A rejection fails every item of the batch.
   */
  answer: (items: readonly T[], written: W) => Promise<R[]> | R[]
  /** Largest number of items written at once. */
  maxBatch: number
  /** Writes allowed in flight at once; items that arrive meanwhile wait for the next batch. */
  maxInFlight: number
}

/**
 * Group commit: items that arrive while a write is in flight wait and are written together in the
 * next one. Each caller is answered only after the write that holds its item settled, so an
 * acknowledged item is durable, and a failed write fails its whole batch.
 */
export class GroupCommit<T, W, R> {
  private readonly queue: Array<{ item: T; resolve: (result: R) => void; reject: (err: unknown) => void }> = []
  /** Writes in flight: bounded by maxInFlight. */
  private inFlight = 0
  /** Batches not yet answered: their write, then their answer. */
  private unanswered = 0
  private readonly idleWaiters: Array<() => void> = []

  constructor(private readonly options: GroupCommitOptions<T, W, R>) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1))
      throw new RangeError('maxBatch and maxInFlight must be at least 1')
  }

  enqueue(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.flush()
    })
  }

  /** Resolves once every item handed to enqueue() has been answered. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private idle(): boolean {
    return this.unanswered === 0 && this.queue.length === 0
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch)
      this.inFlight++
      this.unanswered++
      void this.run(batch).finally(() => {
        this.unanswered--
        if (this.idle()) this.idleWaiters.splice(0).forEach((done) => done())
      })
    }
  }

  private async run(batch: GroupCommit<T, W, R>['queue']): Promise<void> {
    const items = batch.map((waiting) => waiting.item)
    let written: W
    try {
      written = await this.options.write(items)
    } catch (err) {
      batch.forEach((waiting) => waiting.reject(err))
      return
    } finally {
      // The slot is given back as soon as the write settles, not after the answer.
      this.inFlight--
      this.flush()
    }
    try {
      const results = await this.options.answer(items, written)
      if (results.length !== batch.length)
        throw new Error(`group commit: ${results.length} results for a batch of ${batch.length}`)
      batch.forEach((waiting, i) => waiting.resolve(results[i] as R))
    } catch (err) {
      batch.forEach((waiting) => waiting.reject(err))
    }
  }
}
