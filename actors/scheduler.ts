/** One unit of work: a device's job, or both peers of an HA pair (never split across slots). */
export interface WorkUnit {
  id: string;
  devices: readonly string[];
  run: () => Promise<unknown>;
}

/**
 * A FIFO queue with a concurrency limit. Units already running when the daemon restarted are
 * `adopt`ed: they run at once and count against the limit.
 */
export class Scheduler {
  private readonly queue: WorkUnit[] = [];
  private readonly active = new Map<string, WorkUnit>();
  private idleWaiters: Array<() => void> = [];

  constructor(private limit: number) {}

  setConcurrency(limit: number): void {
    this.limit = Math.max(1, limit);
    this.pump();
  }

  get concurrency(): number {
    return this.limit;
  }

  enqueue(unit: WorkUnit): void {
    this.queue.push(unit);
    this.pump();
  }

  adopt(unit: WorkUnit): void {
    this.launch(unit);
  }

  /** Remove a unit that has not started; false when it is running or unknown. */
  dequeue(id: string): boolean {
    const i = this.queue.findIndex((u) => u.id === id);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    this.settle();
    return true;
  }

  isQueued(id: string): boolean {
    return this.queue.some((u) => u.id === id);
  }

  get running(): number {
    return this.active.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.active.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.active.size < this.limit && this.queue.length > 0) this.launch(this.queue.shift()!);
    this.settle();
  }

  private launch(unit: WorkUnit): void {
    this.active.set(unit.id, unit);
    unit
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.active.delete(unit.id);
        this.pump();
      });
  }

  private settle(): void {
    if (this.active.size === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
