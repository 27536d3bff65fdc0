import type { Fact } from '../machines/firewall.logic.ts';
import type { HaLocalState, RunningSync } from '../panos/model.ts';
import { featureRelease } from '../panos/version.ts';
import type { HostedFirewall } from './hosted-firewall.ts';

/**
 * How the two members of an active/passive pair react to each other, as PAN-OS does:
 * - the active member going down (reboot) or being suspended fails over to the passive one;
 * - a member that boots comes back passive (a suspended one stays suspended until made functional);
 * - with preemption on, the member with the better (lower) priority takes the active role back
 *   when it becomes functional again;
 * - running config is synchronized while both run the same feature release; during the window in
 *   which the members are on different releases it is not synchronized and build-compat is Mismatch.
 */
export function reactToPeerFacts(
  lookup: (serial: string) => HostedFirewall | undefined,
  member: HostedFirewall,
  facts: readonly Fact[],
  now: number,
): void {
  const ha = member.context.record.ha;
  if (!ha) return;
  const peer = lookup(ha.config.peerSerial);
  if (!peer || !peer.context.record.ha) return;
  for (const fact of facts) {
    switch (fact.type) {
      case 'sim.reboot.down':
        // The member has been stopping since the restart; once it is gone its peer must carry traffic.
        if (isServing(peer)) promote(peer, now, 'Peer down');
        if (member.context.record.ha?.state !== 'suspended') member.notify({ type: 'ha.set', state: 'initial', reason: 'Rebooting', now });
        break;
      case 'sim.reboot.ready':
        if (member.context.record.ha?.state !== 'suspended') settleAfterReturn(member, peer, now);
        syncPair(member, peer, now);
        break;
      case 'sim.ha-state.changed': {
        const to = fact.data.to as HaLocalState;
        const from = fact.data.from as HaLocalState;
        if (to === 'suspended' && from === 'active' && isServing(peer)) promote(peer, now, 'Peer suspended');
        if (from === 'suspended' && to === 'passive') settleAfterReturn(member, peer, now);
        break;
      }
      case 'sim.version.changed':
        syncPair(member, peer, now);
        break;
      case 'sim.install.started':
        // Chaos: the peer may crash while this member installs (the scenario's `crash` on `peer_install`).
        if (fact.data.kind === 'software' && peer.context.faults.crash) peer.notify({ type: 'peer.install.started', now });
        break;
      case 'sim.download.completed':
        if (fact.data.syncToPeer === true && peer.reachability !== 'down' && peer.reachability !== 'starting') {
          peer.notify({ type: 'image.received', version: String(fact.data.version), from: member.serial, now });
        }
        break;
    }
  }
}

function isServing(peer: HostedFirewall): boolean {
  const r = peer.reachability;
  const state = peer.context.record.ha?.state;
  return (r === 'up' || r === 'autoCommit' || r === 'stopping') && state !== 'suspended' && state !== 'non-functional';
}

function promote(peer: HostedFirewall, now: number, reason: string): void {
  if (peer.context.record.ha?.state !== 'active') peer.notify({ type: 'ha.set', state: 'active', reason, now });
}

/** A member is back (booted or made functional): passive, unless preemption gives it the active role. */
function settleAfterReturn(member: HostedFirewall, peer: HostedFirewall, now: number): void {
  const mine = member.context.record.ha!;
  const theirs = peer.context.record.ha!;
  const peerActive = theirs.state === 'active' && isServing(peer);
  if (!peerActive) {
    member.notify({ type: 'ha.set', state: 'active', reason: 'No active peer', now });
    return;
  }
  const preempt = mine.config.preemptive && theirs.config.preemptive && mine.config.priority < theirs.config.priority;
  if (preempt) {
    member.notify({ type: 'ha.set', state: 'active', reason: 'Preemption', now });
    peer.notify({ type: 'ha.set', state: 'passive', reason: 'Preempted', now });
  } else {
    member.notify({ type: 'ha.set', state: 'passive', reason: 'Peer is active', now });
  }
}

/** Running config sync follows whether both members run the same feature release. */
function syncPair(member: HostedFirewall, peer: HostedFirewall, now: number): void {
  const same = featureRelease(member.context.record.swVersion) === featureRelease(peer.context.record.swVersion);
  const runningSync: RunningSync = same ? 'synchronized' : 'not synchronized';
  member.notify({ type: 'ha.sync', runningSync, now });
  peer.notify({ type: 'ha.sync', runningSync, now });
}
