import test from 'ava';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { Scenario } from '../../scenarios/types.ts';
import type { InventoryDevice } from '../../actors/inventory.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import { command, servedCalls } from './orchestrator-fixture.ts';

const nats = startTestNats(test);

// The basic scenario's five firewalls, put in two Panorama device groups across sites.
const GROUPS: Record<string, string> = {
  '001234567890': 'dg-east',
  '001234567891': 'dg-west',
  '001234567892': 'dg-east',
  '001234567893': 'dg-west',
  '001234567894': 'dg-lab',
};

function grouped(): Scenario {
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.02, env: {} });
  for (const d of scenario.devices) {
    const group = GROUPS[d.serial];
    if (group) d.readiness = { ...d.readiness, deviceGroup: group };
  }
  return scenario;
}

test('discovery: each firewall gets its Panorama device group, and a campaign dry run selects and groups by it', async (t) => {
  const scenario = grouped();
  t.deepEqual(scenario.devices.map((d) => d.serial).sort(), Object.keys(GROUPS).sort(), 'the scenario holds the devices the test groups');
  const stack = await startStack(t, nats, { scenario });

  await command(stack, 'device.discover');
  // Served calls are recorded in batches, a few ms after they were answered.
  await stack.gateway.recordsWritten();
  t.true(servedCalls(stack).some((c) => c.kind === 'show.devicegroups'), 'discovery asked Panorama for its device groups');
  const { devices } = await command<{ devices: InventoryDevice[] }>(stack, 'device.list');
  t.deepEqual(Object.fromEntries(devices.map((d) => [d.serial, d.deviceGroup])), GROUPS);
  const one = await command<{ device: InventoryDevice }>(stack, 'device.get', { serial: '001234567892' });
  t.is(one.device.deviceGroup, 'dg-east');

  const dry = await command<{ dryRun: boolean; campaign: CampaignRecord }>(stack, 'campaign.create', {
    target: '11.1.0',
    select: { deviceGroups: ['dg-east'] },
    waves: 'canary:1,rest',
    concurrency: 2,
    dryRun: true,
  });
  t.true(dry.dryRun);
  t.deepEqual(dry.campaign.waves.flatMap((w) => w.members!.flatMap((m) => m.serials)).sort(), ['001234567890', '001234567892']);

  const byGroup = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', {
    target: '11.1.0',
    select: { versions: ['10.*'] },
    waves: 'rest',
    concurrency: 2,
    groupBy: 'device-group',
    dryRun: true,
  });
  const members = byGroup.campaign.waves.flatMap((w) => w.members!);
  t.is(members.length, 4);
  for (const m of members) for (const s of m.serials) t.is(m.group, GROUPS[s] ?? null, `unit of ${s} is grouped by its device group`);
});
