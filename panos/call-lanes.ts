/**
 * The calls one client has on the wire at once, and who goes next when all its connections are busy.
 *
 * Two lanes, each first-in first-out: a call with precedence goes before every call without it that is
 * still waiting. The daemon gives precedence to an HA pair's calls: a pair is the fleet's longest unit (its
 * peers are upgraded one after the other), and while it runs the pair is without its redundancy, so its
 * reads should not queue behind the readiness checks of a hundred standalone firewalls. A call already on
 * the wire is never interrupted.
 */
export class CallLanes {
  private active = 0;
  private readonly first: Waiter[] = [];
  private readonly rest: Waiter[] = [];

  /**
   * `slots` calls at once; a call still on the wire after `slowMs` gives its slot up (it keeps running): a
   * firewall slow to answer through Panorama, or one that does not answer at all, then holds nobody back
   * for as long as its timeout. The connections themselves are capped by the client's agents.
   */
  constructor(
    readonly slots: number,
    readonly slowMs = Infinity,
  ) {
    if (!(slots >= 1)) throw new RangeError('slots must be at least 1');
  }

  /** Calls on the wire, and calls waiting (with precedence, without). */
  get load(): { active: number; first: number; rest: number } {
    return { active: this.active, first: this.first.length, rest: this.rest.length };
  }

  /**
   * Wait for a free slot; resolves with the function that frees it (call it exactly once). An abort while
   * waiting rejects with the signal's reason and gives up the place in line.
   */
  enter(precedence: boolean, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.slots && this.first.length === 0 && this.rest.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<() => void>((resolve, reject) => {
      const lane = precedence ? this.first : this.rest;
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        const i = lane.indexOf(waiter);
        if (i >= 0) lane.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (timer !== undefined) clearTimeout(timer);
      this.active--;
      this.admitNext();
    };
    const timer = Number.isFinite(this.slowMs) ? setTimeout(release, this.slowMs) : undefined;
    timer?.unref();
    return release;
  }

  private admitNext(): void {
    while (this.active < this.slots) {
      const next = this.first.shift() ?? this.rest.shift();
      if (!next) return;
      this.active++;
      next.admit();
    }
  }
}

interface Waiter {
  admit(): void;
}
