/**
 * The calls one client has under way at once, and who goes next when all its slots are taken.
 *
 * Two lanes, each first-in first-out: a call with precedence goes before every call without it that is
 * still waiting. The daemon gives precedence to an HA pair's calls: a pair is the fleet's longest unit (its
 * peers are upgraded one after the other), and while it runs the pair is without its redundancy, so its
 * reads should not queue behind the readiness checks of a hundred standalone firewalls. A call already on
 * the wire is never interrupted.
 */
export class CallLanes {
  private active = 0;
  private readonly queue = new Lanes();

  /**
   * `slots` calls at once; a call still on the wire `slowMs` after it was sent gives its slot up (it keeps
   * running): a firewall slow to answer through Panorama, or one that does not answer at all, then holds
   * nobody back for as long as its timeout. A call admitted but not sent yet (waiting for the client's rate
   * limit) keeps its slot: otherwise, with a rate limit, every call would soon wait longer than `slowMs`,
   * free its slot, and the lanes would let every call in. The connections are capped by the client's agents.
   */
  constructor(
    readonly slots: number,
    readonly slowMs = Infinity,
  ) {
    if (!(slots >= 1)) throw new RangeError('slots must be at least 1');
  }

  /** Calls holding a slot (on the wire, or about to be), and calls waiting for one (with precedence, without). */
  get load(): { active: number; first: number; rest: number } {
    return { active: this.active, ...this.queue.waiting };
  }

  /**
   * Wait for a free slot; resolves with it: tell it when the call goes out (`sent`) and when it is over
   * (`leave`, which frees the slot once). An abort while waiting rejects with the signal's reason and gives
   * up the place in line.
   */
  async enter(precedence: boolean, signal?: AbortSignal): Promise<Slot> {
    signal?.throwIfAborted();
    if (this.active < this.slots && this.queue.empty) this.active++;
    else await this.queue.wait(precedence, signal); // admitNext counts it in when its turn comes
    return this.slot();
  }

  private slot(): Slot {
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const leave = (): void => {
      if (released) return;
      released = true;
      if (timer !== undefined) clearTimeout(timer);
      this.active--;
      this.admitNext();
    };
    const sent = (): void => {
      if (released || timer !== undefined || !Number.isFinite(this.slowMs)) return;
      timer = setTimeout(leave, this.slowMs);
      timer.unref();
    };
    return { sent, leave };
  }

  private admitNext(): void {
    while (this.active < this.slots && !this.queue.empty) {
      this.active++;
      this.queue.serveNext();
    }
  }
}

/** A place among the calls on the wire. */
export interface Slot {
  /** The call went out: `slowMs` from now, if it is still running, it gives its slot up. */
  sent(): void;
  /** The call is over (answered, failed, given up): the slot goes to the next call. Once; later calls do nothing. */
  leave(): void;
}

/** Calls waiting their turn in two first-in first-out lanes: those with precedence are served first. */
class Lanes {
  private readonly first: Array<() => void> = [];
  private readonly rest: Array<() => void> = [];

  get empty(): boolean {
    return this.first.length === 0 && this.rest.length === 0;
  }

  get waiting(): { first: number; rest: number } {
    return { first: this.first.length, rest: this.rest.length };
  }

  /** Resolves when `serveNext` comes to this call; an abort before that rejects with the signal's reason and gives up the place. */
  wait(precedence: boolean, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const lane = precedence ? this.first : this.rest;
      const go = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = lane.indexOf(go);
        if (i >= 0) lane.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.push(go);
    });
  }

  /** Let the next waiting call go, one with precedence first. */
  serveNext(): void {
    (this.first.shift() ?? this.rest.shift())?.();
  }
}

/**
 * The client's rate limit (`requestsPerSecond`): a token bucket whose waiting calls are served as the
 * lanes serve theirs, those with precedence first, each lane in its order. Without it, a pair's call let
 * into a slot would still wait behind every call already waiting for a token (up to `callSlots` of them,
 * most of a second at 20 calls a second).
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;
  private readonly queue = new Lanes();
  private pumping = false;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = burst;
    this.updated = now();
  }

  /** Resolves when this call may go; an abort while waiting rejects with the signal's reason and takes no token. */
  take(precedence: boolean, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.wait(precedence, signal);
    void this.pump();
    return turn;
  }

  /** One loop hands the tokens out as they come, while anyone waits. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.queue.empty) {
        const t = this.now();
        this.tokens = Math.min(this.burst, this.tokens + ((t - this.updated) * this.rate) / 1000);
        this.updated = t;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          this.queue.serveNext();
          continue;
        }
        await this.sleep(Math.ceil(((1 - this.tokens) * 1000) / this.rate));
      }
    } finally {
      this.pumping = false;
    }
  }
}
