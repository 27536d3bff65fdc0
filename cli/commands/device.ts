import type { Command } from 'commander';
import type { DiscoverReply } from '../../actors/daemon.ts';
import type { InventoryDevice } from '../../actors/inventory.ts';
import type { JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import { DaemonClient, withDaemon } from '../client.ts';
import { parseSerial } from '../options.ts';
import { deviceName, outputTo, printJson, table, type Output } from '../output.ts';
import { hint } from '../hints.ts';
import { jobTable } from './job.ts';

export type { DiscoverReply };

/** `panos.cmd.device.discover`, as `device discover` and the demo send it. */
export function discoverDevices(client: DaemonClient): Promise<DiscoverReply> {
  return client.request<DiscoverReply>('device.discover');
}

export function printDiscovered(out: Output, r: DiscoverReply, indent = ''): void {
  const ha = r.devices.filter((d) => d.haState).length;
  const offline = r.devices.filter((d) => !d.connected).length;
  const notes = [ha > 0 ? `${ha} in HA pairs` : '', offline > 0 ? `${offline} not connected to Panorama` : ''].filter(Boolean);
  out.line(`${indent}Discovered ${r.discovered} devices${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
  out.line(`${indent}  inventory: ${r.inventoryFile}`);
  const gone = r.disconnected ?? [];
  if (gone.length > 0) {
    const names = gone.slice(0, 10).map((d) => deviceName(d.hostname, d.serial));
    out.line(`${indent}  no longer listed by Panorama as connected, now marked not connected (skipped by queues and campaigns): ${names.join(', ')}${gone.length > names.length ? ` and ${gone.length - names.length} more` : ''}`);
  }
  // Trust on first use: a firewall presenting another certificate may be impersonated; work on it has stopped.
  const changed = r.certificates?.changed ?? [];
  if (changed.length > 0) {
    out.line(out.paint('yellow', `${indent}warning: ${changed.length} firewall(s) present another certificate than the one trusted: work on them stops until you accept the new one`));
    for (const c of changed) {
      out.line(`${indent}  ${deviceName(c.hostname, c.serial)} at ${c.address}: expected SHA-256 ${c.expected}, received ${c.presented}`);
      out.line(`${indent}    if it was replaced on purpose: ${hint(`device trust ${c.serial}`)}`);
    }
  }
}

function deviceTable(out: Output, devices: readonly InventoryDevice[]): string {
  return table(
    devices,
    [
      { header: 'SERIAL', value: (d) => d.serial },
      { header: 'HOSTNAME', value: (d) => d.hostname },
      { header: 'MODEL', value: (d) => d.model },
      { header: 'VERSION', value: (d) => d.swVersion },
      { header: 'DEVICE GROUP', value: (d) => d.deviceGroup ?? '-' },
      { header: 'HA', value: (d) => (d.haState ? `${d.haState}${d.haPeer ? ` (peer ${d.haPeer})` : ''}` : '-') },
      { header: 'MGMT IP', value: (d) => d.mgmtIp },
      { header: 'CONNECTED', value: (d) => (d.connected ? 'yes' : out.paint('yellow', 'no')) },
    ],
    out,
  );
}

export function registerDevice(program: Command): void {
  const device = program.command('device').description("the daemon's inventory of firewalls managed by Panorama");

  device
    .command('discover')
    .description("ask Panorama for its managed firewalls and update the inventory (inventory.json in the daemon's data dir)")
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await discoverDevices(client);
        if (opts.json) printJson(out, reply);
        else printDiscovered(out, reply);
      });
    });

  device
    .command('list')
    .description('list the devices of the inventory')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ devices: InventoryDevice[] }>('device.list');
        if (opts.json) return printJson(out, reply);
        if (reply.devices.length === 0) return out.line(`No devices in the inventory yet. Run: ${hint('device discover')}`);
        out.write(deviceTable(out, reply.devices));
        out.line(`${reply.devices.length} device(s)`);
      });
    });

  device
    .command('show')
    .description('show one device and its jobs')
    .argument('<serial>', 'device serial', parseSerial)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (serial: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ device: InventoryDevice; jobs: JobStatusRecord[] }>('device.get', { serial });
        if (opts.json) return printJson(out, reply);
        const d = reply.device;
        const rows: Array<[string, string]> = [
          ['model', `${d.model}${d.family ? ` (family ${d.family})` : ''}`],
          ['version', d.swVersion],
          ['content', d.appVersion || '-'],
          ['mgmt IP', d.mgmtIp],
          ['HA', d.haState ? `${d.haState}${d.haPeer ? `, peer ${d.haPeer}` : ''}` : 'standalone'],
          ['device group', d.deviceGroup ?? '-'],
          ['connected', d.connected ? 'yes' : 'no'],
          ['discovered', d.discoveredAt],
          ['updated', d.updatedAt],
        ];
        out.line(out.paint('bold', deviceName(d.hostname, d.serial)));
        for (const [k, v] of rows) out.line(`  ${(k + ':').padEnd(14)} ${v}`);
        out.line();
        if (reply.jobs.length === 0) out.line('No jobs for this device.');
        else out.write(jobTable(out, reply.jobs));
      });
    });

  device
    .command('trust')
    .description("trust on first use: accept the certificate a firewall presents now, after it was replaced on purpose (firewall.tls.trust_on_first_use)")
    .argument('<serial>', 'device serial', parseSerial)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (serial: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ serial: string; address: string; fingerprint: string; previous?: string }>('device.trust', { serial });
        if (opts.json) return printJson(out, reply);
        out.line(`Trusted the certificate of ${reply.serial} at ${reply.address}: SHA-256 ${reply.fingerprint}`);
        if (reply.previous) out.line(`  (it replaces ${reply.previous})`);
      });
    });
}
