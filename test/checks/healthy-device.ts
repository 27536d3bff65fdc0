import type { ReadingValues } from '../../checks/index.ts';

export const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

/** A healthy device's answers, as the parsers return them. */
export function healthy(): ReadingValues {
  return {
    systemInfo: { hostname: 'fw1', ipAddress: '10.0.0.1', model: 'PA-3220', family: '3200', serial: '001', swVersion: '10.2.9', appVersion: '8900-8000', uptime: '1 days', multiVsys: false, advancedRouting: false, isPanorama: false },
    panoramaStatus: { configured: true, servers: [{ index: 1, address: '10.0.0.100', connected: true, haState: 'disconnected' }] },
    ha: { enabled: false, panorama: false },
    ntp: { synched: '0.pool.ntp.org', servers: [{ key: 'ntp-server-1', name: '0.pool.ntp.org', status: 'synched', reachable: true }] },
    pendingChanges: false,
    fullCommitRequired: false,
    licenses: [{ feature: 'Threat Prevention', description: 'x', expires: 'December 31, 2030', expired: false, expiresAtMs: Date.UTC(2030, 11, 31) }],
    support: { expiryDate: 'December 31, 2030', expiresAtMs: Date.UTC(2030, 11, 31), level: 'Premium' },
    disk: [{ filesystem: '/dev/sda6', sizeMb: 16000, usedMb: 4000, availMb: 12000, mount: '/opt/panrepo' }],
    software: {
      entries: [
        { version: '11.1.0', filename: 'a', sizeMb: 1000, releasedOn: '', downloaded: false, downloading: false, current: false, latest: false, uploaded: false },
        { version: '11.1.2', filename: 'b', sizeMb: 500, releasedOn: '', downloaded: false, downloading: false, current: false, latest: true, uploaded: false },
      ],
    },
    jobs: [{ id: 1, type: 'AutoCom', status: 'FIN', result: 'OK', progress: 100, user: '', stoppable: false, description: '', details: [], warnings: [], finished: true, ok: true }],
    sessions: [{ source: '10.0.0.5', destination: '10.1.0.9', xdst: '10.1.0.9', dport: 443, proto: '6', application: 'ssl', state: 'ACTIVE', from: 'trust', to: 'untrust' }],
    arp: { total: 1, entries: [{ interface: 'ethernet1/1', ip: '10.0.0.254', mac: 'aa', port: 'ethernet1/1', status: 'c' }] },
    tunnels: [{ type: 'IPSec', name: 'to-dc', state: 'active' }],
    bgpPeers: [{ virtualRouter: 'default', peer: 'isp1', group: 'g', status: 'Established', peerAddress: '192.0.2.1:179', remoteAs: '64512', key: 'default_g_isp1' }],
    mpClock: NOW,
    dpClocks: [NOW + 1000],
    certificates: [{ name: 'web', algorithm: 'RSA', keySize: 2048, hash: 'sha256' }],
    updateSchedules: [{ name: 'threats', recurrence: 'daily', at: '03:00', action: 'download-and-install' }],
    jumboFrames: false,
    environmentals: [{ component: 'fan', slot: 'Slot1', description: 'Fan #1 RPM', alarm: false }],
    dpCpu: { dp0: { '0': [10, 12, 11], '1': [9, 9, 9] } },
    mpCpu: 12,
    mpMemory: { totalMib: 16000, freeMib: 8000, usedMib: 6000, buffCacheMib: 2000 },
    configLocks: [],
    commitLocks: [],
    panoramaInfo: { hostname: 'pano', ipAddress: '10.0.0.100', model: 'Panorama', family: 'm', serial: 'P1', swVersion: '11.1.3', uptime: '', multiVsys: false, advancedRouting: false, isPanorama: true },
    fib: [],
    interfaces: [],
    interfaceMtus: {},
    routes: [],
    sessionInfo: { numMax: 0, numActive: 0, numTcp: 0, numUdp: 0, numIcmp: 0, numInstalled: 0, cps: 0, kbps: 0, pps: 0, all: {} },
  };
}

