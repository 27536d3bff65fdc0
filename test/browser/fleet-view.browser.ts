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
import { repoRoot, startTestNats, waitFor } from '../helpers/index.ts';
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
  const stack = await startStack(t, nats, { scenario, config: (c) => ({ ...c, concurrency: 2, retries: { maxAttempts: 1, backoffSeconds: 0.1 } }) });
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
  const stack = await startStack(t, nats, { timeScale: 0.05 });
  const web = await startWebServer({ store: stack.daemonStore!, nc: stack.nc, subjects: stack.subjects, log, listen: '127.0.0.1:0', dataDir: stack.dataDir, patchIntervalMs: 100 });
  t.teardown(() => web.close());
  await discover(stack);
  const serial = '001234567893';
  const job = (await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: serial, targetVersion: '10.5.1' })).job;
  const { page, problems } = await browser(t);
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
  const post = await text(page, 'postflight');
  t.regex(post, /routes\s+110\s+110/);
  t.regex(await text(page, 'steps'), /reboot/);
  await page.screenshot({ path: join(OUTPUT, 'job-complete.png'), fullPage: true });
  t.deepEqual(problems, [], 'page errors, failed requests or requests off this machine');
});
