import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { QueueSummary } from '../../actors/daemon.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { startWebServer } from '../../web/index.ts';
import { command, discover, LONG } from '../actors/orchestrator-fixture.ts';
import { openTestStore, repoRoot, startTestNats, tempDir, uniquePrefix, waitFor } from '../helpers/index.ts';
import { eventPublisher, Subjects } from '../../bus/index.ts';
import { readFileSync } from 'node:fs';
import { operatorTokenPath } from '../../web/index.ts';
import { startStack } from '../helpers/stack.ts';

/** Screenshots land here, next to the test output (and are kept by CI's workspace). */
export const OUTPUT = join(repoRoot, 'test', 'browser', 'output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const nats = startTestNats(test);
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function browser(t: import('ava').ExecutionContext): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'panos-chromium-'));
  // A fresh profile, and nothing that reaches out of this machine (no sync, updates or background traffic).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/api/stream')) problems.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  // Nothing but the daemon's own address is asked for: no CDN, no fonts from elsewhere.
  page.on('request', (r) => {
    if (!r.url().startsWith('http://127.0.0.1:')) problems.push(`outside request: ${r.url()}`);
  });
  return { context, page, problems };
}

const text = (page: Page, testId: string): Promise<string> => page.getByTestId(testId).innerText();

test('fleet page: during a simulated run it shows the device count, a job progressing to complete and a failure with its reason, live, without a reload', async (t) => {
  mkdirSync(OUTPUT, { recursive: true });
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.05, env: {} });
  const broken = '001234567891';
  const error = 'Failed to download 10.5.1: connection to the update server timed out';
  scenario.failures = [{ device: broken, operation: 'download', failureRate: 1, error }];
  const stack = await startStack(t, nats, { scenario, config: (c) => ({ ...c, concurrency: 2, retries: { maxAttempts: 2, backoffSeconds: 0.1 }, timeouts: { ...c.timeouts, apiSeconds: 60 } }) });
  const web = await startWebServer({ store: stack.daemonStore!, nc: stack.nc, subjects: stack.subjects, log, listen: '127.0.0.1:0', dataDir: stack.dataDir, patchIntervalMs: 100 });
  t.teardown(() => web.close());

  const { page, problems } = await browser(t);
  let loads = 0;
  page.on('load', () => loads++);
  await page.goto(`${web.url}/`);
  await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
  t.is(await text(page, 'device-count'), '0');
  t.regex(await text(page, 'operator'), /read-only/);

  // Discovery lands on the open page through the event feed.
  await discover(stack);
  await page.getByTestId('device-count').filter({ hasText: /^5$/ }).waitFor({ timeout: LONG });

  const good = '001234567890';
  const summary = await command<QueueSummary>(stack, 'download.queue-all', {});
  t.is(summary.queued, 4);
  // The good device's row, sampled while its job runs: it must pass through a partial progress to complete.
  const seen: string[] = [];
  const row = page.locator(`[data-serial="${good}"]`);
  await waitFor(async () => {
    const status = await row.getAttribute('data-status');
    const width = await row.locator('.progress span').getAttribute('style').then((s) => /width:\s*([\d.]+%)/.exec(s ?? '')?.[1] ?? '').catch(() => '');
    const sample = `${status} ${width}`;
    if (seen.at(-1) !== sample) seen.push(sample);
    return status === 'download_complete';
  }, LONG, 25);
  t.true(
    seen.some((s) => /^downloading (\d+)%$/.test(s) && Number(/(\d+)%/.exec(s)![1]) > 0 && Number(/(\d+)%/.exec(s)![1]) < 100),
    seen.join(' | '),
  );
  t.is(seen.at(-1), 'download_complete 100%');

  const failure = page.getByTestId('failures').locator('li').filter({ hasText: 'fw-dc1-02' });
  await failure.waitFor({ timeout: LONG });
  t.true((await failure.innerText()).includes('connection to the update server timed out'), await failure.innerText());
  await page.locator(`[data-serial="${broken}"][data-status="failed"]`).waitFor();
  t.is(await text(page, 'failed-count'), '1');

  // Filters and search work on the live table.
  await page.getByTestId('search').fill('fw-dc1');
  t.is(await text(page, 'device-shown'), '2 of 5 devices');
  await page.getByTestId('search').fill('');
  await page.getByTestId('filter-site').selectOption('branch');
  t.is(await text(page, 'device-shown'), '2 of 5 devices');
  await page.getByTestId('filter-site').selectOption('');
  await page.getByTestId('filter-status').selectOption('failed');
  t.is(await text(page, 'device-shown'), '1 of 5 devices');
  await page.getByTestId('filter-status').selectOption('');
  await page.locator(`[data-serial="${stack.scenario.devices.at(-1)!.serial}"]`).waitFor();
  t.is(loads, 1, 'the page was never reloaded');
  const shot = join(OUTPUT, 'fleet-view.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.log(`screenshot: ${shot}`);

  // The failed job's page: its step, reason and timeline from the log.
  await failure.locator('a').first().click();
  await page.getByTestId('timeline').waitFor();
  t.true((await text(page, 'job-message')).includes('connection to the update server timed out'));
  const timeline = await text(page, 'timeline');
  t.true(timeline.includes('job.submitted') && timeline.includes('job.failed'), timeline);
  t.regex(await text(page, 'steps'), /download/);
  await page.screenshot({ path: join(OUTPUT, 'job-failed.png'), fullPage: true });
  t.deepEqual(problems, [], 'page errors, failed requests or requests off this machine');
});

test('job page: an upgrade job progresses live to complete, with readiness and post-flight results', async (t) => {
  mkdirSync(OUTPUT, { recursive: true });
  const stack = await startStack(t, nats, { timeScale: 0.1 });
  const web = await startWebServer({ store: stack.daemonStore!, nc: stack.nc, subjects: stack.subjects, log, listen: '127.0.0.1:0', dataDir: stack.dataDir, patchIntervalMs: 100 });
  t.teardown(() => web.close());
  await discover(stack);
  // The browser is up and has the app loaded before the job starts: with four browser tests at once on two cores,
  // a browser started after the submit once saw the job only when it had already finished.
  const { page, problems } = await browser(t);
  await page.goto(`${web.url}/`);
  await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor({ timeout: LONG });
  const serial = '001234567893';
  const job = (await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: serial, targetVersion: '10.5.1' })).job;
  await page.goto(`${web.url}/jobs/${job.job_id}`);
  const progress: string[] = [];
  await waitFor(async () => {
    const p = await text(page, 'job-progress').catch(() => '');
    if (p && progress.at(-1) !== p) progress.push(p);
    return p === '100%';
  }, LONG, 25);
  t.true(progress.some((p) => p !== '0%' && p !== '100%'), progress.join(' '));
  t.regex(await text(page, 'job-message'), /10\.5\.1/);
  t.regex(await text(page, 'readiness'), /free disk \d+ MB/);
  // The readiness checks' verdicts, one row per check of the policy.
  t.regex(await text(page, 'readiness-checks'), /NTP synchronised\s+pass/);
  const post = await text(page, 'postflight');
  t.regex(post, /routes\s+110\s+110/);
  t.regex(await text(page, 'steps'), /reboot/);
  await page.screenshot({ path: join(OUTPUT, 'job-complete.png'), fullPage: true });
  t.deepEqual(problems, [], 'page errors, failed requests or requests off this machine');
});

test('fleet page: a campaign shows its waves and what it waits for; an operator with the token approves its gate from the page', async (t) => {
  mkdirSync(OUTPUT, { recursive: true });
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const web = await startWebServer({ store: stack.daemonStore!, nc: stack.nc, subjects: stack.subjects, log, listen: '127.0.0.1:0', dataDir: stack.dataDir, patchIntervalMs: 100 });
  t.teardown(() => web.close());
  await discover(stack);
  const { page, problems } = await browser(t);
  await page.goto(`${web.url}/`);
  await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
  const { campaign } = await command<{ campaign: { campaign_id: string } }>(stack, 'campaign.create', {
    target: '11.1.0',
    select: { versions: ['10.*'] },
    waves: 'canary:1,rest',
    approval: true,
    concurrency: 2,
  });
  const card = page.locator(`[data-campaign="${campaign.campaign_id}"]`);
  await card.getByText('awaits approval').waitFor({ timeout: LONG });
  t.regex(await card.innerText(), new RegExp(`waits for .*campaign approve ${campaign.campaign_id}`));
  // Read-only: no action buttons until the operator token is given.
  t.is(await card.getByRole('button').count(), 0);
  await page.getByRole('button', { name: 'operator token…' }).click();
  await page.getByPlaceholder('ui-operator-token from the data dir').fill(readFileSync(operatorTokenPath(stack.dataDir), 'utf8').trim());
  await page.getByRole('button', { name: 'use' }).click();
  await page.getByTestId('operator').filter({ hasText: 'operator' }).getByRole('button', { name: 'sign out' }).waitFor();
  await page.screenshot({ path: join(OUTPUT, 'campaign-gate.png'), fullPage: true });
  await card.getByRole('button', { name: 'approve' }).click();
  await page.locator(`[data-campaign="${campaign.campaign_id}"][data-status="completed"]`).waitFor({ timeout: LONG });
  t.regex(await card.innerText(), /4\/4 units/);
  t.deepEqual(problems, [], 'page errors, failed requests or requests off this machine');
});

test('fleet page: 10,000 devices load, filter and scroll with only the visible rows in the page, and a new device appears live', async (t) => {
  const store = openTestStore(t);
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const off = store.onAppend(eventPublisher(nc, subjects));
  t.teardown(off);
  const models = ['PA-440', 'PA-3220', 'PA-5220', 'PA-VM'];
  const versions = ['10.0.2', '10.1.0', '10.5.1', '11.1.0'];
  const device = (i: number) => ({
    type: 'device.discovered',
    data: { serial: `0190${String(i).padStart(8, '0')}`, hostname: `fw-${String(i).padStart(5, '0')}`, mgmtIp: `10.${(i >> 8) & 255}.${i & 255}.1`, model: models[i % 4], family: 'x', swVersion: versions[i % 4], appVersion: '1', connected: true, haState: null, haPeer: null },
  });
  const N = 10_000;
  for (let from = 0; from < N; from += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, k) => store.append(`device:0190${String(from + k).padStart(8, '0')}`, [device(from + k)])));
  }
  const web = await startWebServer({ store, nc, subjects, log, listen: '127.0.0.1:0', dataDir: tempDir(t), patchIntervalMs: 100 });
  t.teardown(() => web.close());

  const { page, problems } = await browser(t);
  await page.goto(`${web.url}/`);
  await page.getByTestId('device-count').filter({ hasText: /^10000$/ }).waitFor({ timeout: LONG });
  const rendered = await page.locator('[data-testid="device-rows"] .row').count();
  t.true(rendered > 5 && rendered < 100, `${rendered} rows in the DOM for 10,000 devices`);
  await page.getByTestId('filter-version').selectOption('11.1.0');
  t.is(await text(page, 'device-shown'), '2500 of 10000 devices');
  await page.getByTestId('filter-model').selectOption('PA-VM');
  t.is(await text(page, 'device-shown'), '2500 of 10000 devices');
  await page.getByTestId('filter-model').selectOption('PA-440');
  t.is(await text(page, 'device-shown'), '0 of 10000 devices');
  await page.getByTestId('filter-model').selectOption('');
  await page.getByTestId('filter-version').selectOption('');
  await page.getByTestId('search').fill('fw-09999');
  t.is(await text(page, 'device-shown'), '1 of 10000 devices');
  await page.getByTestId('search').fill('');
  // The end of the list is reachable by scrolling, and only then rendered.
  t.is(await page.locator('[data-serial="019000009999"]').count(), 0);
  await page.getByTestId('device-rows').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await page.locator('[data-serial="019000009999"]').waitFor();
  t.true((await page.locator('[data-testid="device-rows"] .row').count()) < 100);
  // A device discovered now arrives through NATS and the feed.
  await store.append('device:019000010000', [device(N)]);
  await page.getByTestId('device-count').filter({ hasText: /^10001$/ }).waitFor({ timeout: LONG });
  t.deepEqual(problems, [], 'page errors, failed requests or requests off this machine');
});
