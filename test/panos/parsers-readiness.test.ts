import { readFileSync } from 'node:fs';
import test from 'ava';
import { BadResponseError, PanosApiError } from '../../panos/errors.ts';
import {
  certificateDetails,
  meanDataplaneCpu,
  parseBgpPeers,
  parseCertificates,
  parseDataplaneClocks,
  parseDataplaneCpu,
  parseEnvironmentals,
  parseFib,
  parseInterfaceMtus,
  parseInterfacesHardware,
  parseLicenses,
  parseLocks,
  parseManagementCpu,
  parseManagementMemory,
  parseNtp,
  parsePanoramaStatus,
  parseSessionsAll,
  parseSupportInfo,
  parseTunnels,
  parseUpdateSchedules,
  parseYesNoResult,
} from '../../panos/parsers-readiness.ts';
import { parseClock } from '../../panos/parsers.ts';

const fx = (name: string) => readFileSync(new URL(`./fixtures/readiness/${name}.xml`, import.meta.url), 'utf8').trim();

test('readiness parsers: pending changes, full commit and jumbo frames read yes/no and on/off', (t) => {
  t.true(parseYesNoResult(fx('is_pending_changes_true')));
  t.false(parseYesNoResult(fx('is_pending_changes_false')));
  t.true(parseYesNoResult(fx('is_full_commit_required_true')));
  t.false(parseYesNoResult(fx('is_full_commit_required_false')));
  t.true(parseYesNoResult(fx('is_global_jumbo_frame_set_on')));
  t.false(parseYesNoResult(fx('is_global_jumbo_frame_set_off')));
  t.throws(() => parseYesNoResult("<response status='success'><result>maybe</result></response>", 'x'), { instanceOf: BadResponseError });
});

test('readiness parsers: panorama-status reads each server block; empty means not configured; elements or odd text are refused', (t) => {
  t.deepEqual(parsePanoramaStatus(fx('is_panorama_connected_true')), { configured: true, servers: [{ index: 1, address: '1.2.3.4', connected: true, haState: 'disconnected' }] });
  t.false(parsePanoramaStatus(fx('is_panorama_connected_false')).servers[0]?.connected);
  t.deepEqual(parsePanoramaStatus(fx('is_panorama_connected_no_panorama')), { configured: false, servers: [] });
  t.throws(() => parsePanoramaStatus(fx('is_panorama_connected_no_string_response')), { instanceOf: BadResponseError });
  t.throws(() => parsePanoramaStatus(fx('is_panorama_connected_no_typical_structure')), { instanceOf: BadResponseError });
  const two = parsePanoramaStatus(`<response status="success"><result>
    Panorama Server 1 : 1.2.3.4
        Connected     : no
        HA state      : disconnected

    Panorama Server 2 : 5.6.7.8
        Connected     : yes
        HA state      : disconnected
</result></response>`);
  t.deepEqual(two.servers.map((s) => [s.address, s.connected]), [['1.2.3.4', false], ['5.6.7.8', true]]);
});

test('readiness parsers: ntp lists servers and the one synchronised to', (t) => {
  const n = parseNtp(fx('get_ntp_servers'));
  t.is(n.synched, '1.pool.ntp.org');
  t.deepEqual(n.servers.map((s) => [s.name, s.status, s.reachable]), [['0.pool.ntp.org', 'available', false], ['1.pool.ntp.org', 'available', false]]);
  t.deepEqual(parseNtp('<response status="success"><result><synched>LOCAL</synched></result></response>'), { synched: 'LOCAL', servers: [] });
});

test('readiness parsers: licenses with expiry dates; no licenses gives an empty list', (t) => {
  const l = parseLicenses(fx('get_licenses'));
  t.deepEqual(l.map((x) => [x.feature, x.expires, x.expired]), [
    ['PAN-DB URL Filtering', 'December 31, 2023', false],
    ['Logging Service', 'August 04, 2024', false],
    ['Premium', 'June 30, 2028', false],
  ]);
  t.is(l[0]?.expiresAtMs, Date.UTC(2023, 11, 31));
  t.deepEqual(parseLicenses(fx('get_licenses_not_licensed_exception')), []);
});

test('readiness parsers: support check reads expiry and level; an empty Support block gives neither', (t) => {
  t.deepEqual(parseSupportInfo(fx('get_support_license')), { description: 'Device not found on this update server' });
  const s = parseSupportInfo(
    '<response status="success"><result><SupportInfoResponse><Support><ExpiryDate>December 31, 2030</ExpiryDate><SupportLevel>Premium</SupportLevel></Support></SupportInfoResponse></result></response>',
  );
  t.deepEqual(s, { expiryDate: 'December 31, 2030', expiresAtMs: Date.UTC(2030, 11, 31), level: 'Premium' });
});

test('readiness parsers: sessions, tunnels, BGP peers and the FIB of every virtual router', (t) => {
  t.like(parseSessionsAll(fx('get_sessions'))[0], { source: '10.10.11.2', xdst: '8.8.8.8', dport: 3, application: 'ping' });
  t.deepEqual(parseSessionsAll(fx('get_sessions_empty')), []);
  t.deepEqual(parseTunnels(fx('get_tunnels')), [{ type: 'IPSec', name: 'my-tunnel', state: 'init', peerIp: '6.6.6.6', innerIf: 'tunnel.1' }]);
  t.deepEqual(parseTunnels(fx('get_tunnels_empty')), []);
  const bgp = parseBgpPeers(fx('get_bgp_peers'));
  t.like(bgp[0], { key: 'default_Peer-Group1_Peer1', status: 'Established', peerAddress: '169.254.8.2:35355', remoteAs: '64512' });
  t.deepEqual(parseBgpPeers(fx('get_bgp_peers_empty_response')), []);
  const fib = parseFib(fx('get_fib_routes'));
  t.deepEqual(fib.map((f) => `${f.virtualRouter} ${f.destination} ${f.interface} ${f.nexthop}`), ['VR-MAIN 0.0.0.0/0 ethernet1/1 10.10.11.1', 'VR-MAIN 1.1.1.1/32 loopback.10 1.2.3.4']);
  t.deepEqual(parseFib(fx('get_fib_routes_none')), []);
  const two = parseFib(
    '<response status="success"><result><fibs><entry><vr>a</vr><entries><entry><dst>0.0.0.0/0</dst><interface>e1</interface><nexthop>1.1.1.1</nexthop><flags>ug</flags></entry></entries></entry><entry><vr>b</vr><entries><entry><dst>10.0.0.0/8</dst><interface>e2</interface><nexthop>2.2.2.2</nexthop><flags>ug</flags></entry></entries></entry></fibs></result></response>',
  );
  t.deepEqual(two.map((f) => f.virtualRouter), ['a', 'b']);
});

test('readiness parsers: data-plane clocks, one or several, against the management clock', (t) => {
  t.deepEqual(parseDataplaneClocks(fx('get_dp_clock')), [Date.UTC(2023, 4, 31, 11, 52, 34)]);
  t.is(parseDataplaneClocks(fx('get_dp_clock_alt_format_all_in_sync')).length, 1);
  t.is(parseDataplaneClocks(fx('get_dp_clock_alt_format_out_of_sync')).length, 2);
  t.is(parseClock(fx('get_mp_clock')).epochMs, Date.UTC(2023, 4, 31, 11, 50, 21));
  // `show clock more` answered like `show clock` (the simulator's old bug) is refused, not misread.
  t.throws(() => parseDataplaneClocks(fx('get_mp_clock')), { instanceOf: BadResponseError });
});

test('readiness parsers: certificates from the running config, without the private key', (t) => {
  const c = parseCertificates(fx('get_certificates'));
  t.deepEqual(c.map((x) => [x.name, x.algorithm]), [['acertificate', 'RSA'], ['bcertificate', 'EC']]);
  t.false(JSON.stringify(c).includes('private-key-data'));
  t.deepEqual(parseCertificates(fx('get_certificates_no_certificate')), []);
});

const pem = (name: string) => readFileSync(new URL(`./fixtures/readiness/${name}.pem`, import.meta.url), 'utf8');

test('readiness parsers: certificateDetails reads key size and signature hash, and nothing from a broken PEM', (t) => {
  t.deepEqual(certificateDetails(pem('cert-rsa1024-sha1')), { keySize: 1024, hash: 'sha1' });
  t.deepEqual(certificateDetails(pem('cert-rsa2048-sha256')), { keySize: 2048, hash: 'sha256' });
  t.deepEqual(certificateDetails(pem('cert-ec256-sha256')), { keySize: 256, hash: 'sha256' });
  // PAN-OS indents the PEM inside <public-key>.
  t.deepEqual(certificateDetails(pem('cert-rsa2048-sha256').replace(/^/gm, '    ')), { keySize: 2048, hash: 'sha256' });
  t.deepEqual(certificateDetails('not a certificate'), {});
  t.deepEqual(certificateDetails(pem('cert-rsa2048-sha256').slice(0, 200)), {});
  // Read once and kept: a caller that changes what it was given changes nothing for the next.
  const first = certificateDetails(pem('cert-rsa1024-sha1'));
  first.keySize = 4096;
  delete first.hash;
  t.deepEqual(certificateDetails(pem('cert-rsa1024-sha1')), { keySize: 1024, hash: 'sha1' });
});

test('readiness parsers: update schedules, one recurrence each; none configured gives []', (t) => {
  const s = parseUpdateSchedules(fx('get_update_schedules'));
  t.deepEqual(
    s.map((x) => [x.name, x.recurrence, x.at, x.dayOfWeek]),
    [
      ['anti-virus', 'daily', '00:30', undefined],
      ['wildfire', 'every-15-mins', '4', undefined],
      ['global-protect-datafile', 'none', undefined, undefined],
      ['wf-private', 'none', undefined, undefined],
      ['global-protect-clientless-vpn', 'daily', '01:45', undefined],
      ['threats', 'weekly', '01:02', 'wednesday'],
    ],
  );
  t.deepEqual(parseUpdateSchedules(fx('get_update_schedules_empty_response')), []);
  t.deepEqual(parseUpdateSchedules(fx('get_update_schedules_no_update_schedules_key')), []);
});

test('readiness parsers: environmentals flatten every slot; an alarm is True', (t) => {
  const e = parseEnvironmentals(fx('get_system_environmentals'));
  t.is(e.length, 5);
  t.deepEqual(e.filter((x) => x.alarm).map((x) => `${x.component} ${x.description}`), ['power-supply Power Supply #1 (left)']);
  t.deepEqual(parseEnvironmentals(fx('get_system_environmentals_empty_response')), []);
});

test('readiness parsers: data-plane CPU per core, management CPU and memory', (t) => {
  const dp = parseDataplaneCpu(fx('get_dp_cpu_utilization'));
  t.deepEqual(Object.keys(dp.dp0 ?? {}), ['0', '1', '2', '3']);
  t.is(meanDataplaneCpu(dp), 0.25);
  t.throws(() => parseDataplaneCpu(fx('get_dp_cpu_utilization_no_data_processor')), { instanceOf: BadResponseError });
  t.throws(() => parseDataplaneCpu(fx('get_dp_cpu_utilization_no_cpu_load_avg_entry')), { instanceOf: BadResponseError });
  t.is(parseManagementCpu(fx('get_mp_cpu_utilization')), 3);
  t.throws(() => parseManagementCpu(fx('get_mp_cpu_utilization_no_matches')), { instanceOf: BadResponseError });
  t.throws(() => parseManagementCpu(fx('get_mp_cpu_utilization_no_cpu_data')), { instanceOf: BadResponseError });
  t.deepEqual(parseManagementMemory(fx('get_mp_mem_utilization')), { totalMib: 63739.8, freeMib: 46728.6, usedMib: 10179.2, buffCacheMib: 6832 });
  t.throws(() => parseManagementMemory(fx('get_mp_mem_utilization_bad_string')), { instanceOf: BadResponseError });
});

test('readiness parsers: config and commit locks; none gives []', (t) => {
  t.deepEqual(parseLocks(fx('get_config_locks')), [{ owner: 'admin', type: 'shared', location: 'shared', created: '2026/03/19 17:00:45', comment: 'Testing config lock api' }]);
  t.deepEqual(parseLocks(fx('get_config_locks_no_locks')), []);
  t.deepEqual(parseLocks(fx('get_commit_locks_no_locks')), []);
});

test('readiness parsers: interfaces from show interface hardware, MTUs from the system state', (t) => {
  t.deepEqual(parseInterfacesHardware(fx('get_nics_ok')).map((i) => [i.name, i.state, i.speed]), [['ethernet1/1', 'up', 'ukn'], ['ethernet1/2', 'up', 'ukn']]);
  t.is(parseInterfacesHardware(fx('get_nics_single_entry')).length, 1);
  const mtus = parseInterfaceMtus(
    "<response status=\"success\"><result><![CDATA[ sw.dev.interface.config: { 'TCI': { 'hwaddr': b4:0c:25:ea:00:0c, 'mtu': 1500, }, 'ethernet1/1': { 'hwaddr': b4:0c:25:ea:00:40, 'mtu': 9000, }, 'ethernet1/1.100': { }, 'ha1-a': { }, } ]]></result></response>",
  );
  t.deepEqual(mtus, { TCI: 1500, 'ethernet1/1': 9000, 'ha1-a': undefined });
});

test('readiness parsers: an error answer (command unsupported on this version) is a PanosApiError, not a parse', (t) => {
  const unexpected = '<response status="error" code="17"><msg><line><![CDATA[ show -> system -> environmentals  is unexpected]]></line></msg></response>';
  t.throws(() => parseEnvironmentals(unexpected), { instanceOf: PanosApiError });
});
