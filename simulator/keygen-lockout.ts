import type { AuthenticationSettings } from '../scenarios/types.ts';

/**
 * PAN-OS's Failed Attempts and Lockout Time for administrators (Device > Setup > Management >
 * Authentication Settings): after `failedAttempts` wrong passwords in a row, the user is locked out of
 * that device for `lockoutMinutes`, and keygen (or HTTP Basic) is refused even with the right password.
 * `failedAttempts` 0 turns it off. A success resets the count.
 */
export class KeygenLockout {
  private readonly state = new Map<string, { failures: number; lockedUntil: number }>();
  /** Refusals while locked, for the simulator's counters. */
  refusedWhileLocked = 0;

  constructor(
    private readonly settings: AuthenticationSettings,
    private readonly now: () => number = Date.now,
  ) {}

  private key(device: string, user: string): string {
    return `${device}\u0000${user}`;
  }

  /** True while `user` is locked out of `device`. */
  locked(device: string, user: string): boolean {
    const s = this.state.get(this.key(device, user));
    if (!s || s.lockedUntil === 0) return false;
    if (this.now() < s.lockedUntil) return true;
    this.state.delete(this.key(device, user));
    return false;
  }

  /** Record the outcome of a keygen that was not refused for a lockout; returns true when this failure locks the user. */
  record(device: string, user: string, ok: boolean): boolean {
    const key = this.key(device, user);
    if (ok || this.settings.failedAttempts === 0) {
      this.state.delete(key);
      return false;
    }
    const s = this.state.get(key) ?? { failures: 0, lockedUntil: 0 };
    s.failures++;
    if (s.failures >= this.settings.failedAttempts) {
      s.lockedUntil = this.now() + this.settings.lockoutMinutes * 60_000;
      s.failures = 0;
      this.state.set(key, s);
      return true;
    }
    this.state.set(key, s);
    return false;
  }

  /** Users locked now, per device, for `describe`-style reports. */
  lockedCount(): number {
    const t = this.now();
    let n = 0;
    for (const s of this.state.values()) if (s.lockedUntil > t) n++;
    return n;
  }
}
