import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson, isOperator, jobAction, operatorToken, setOperatorToken } from './api.ts';
import { fleet, type LiveState } from './fleet-store.ts';
import { CAMPAIGN_ENDED, TERMINAL, type CampaignRow, type DeviceRow, type JobDetail, type JobRow, type Metrics, type TimelineLine } from './types.ts';
import { useVirtualRows } from './virtual.ts';

const ROW_HEIGHT = 30;

function useFleet(): number {
  const [version, setVersion] = useState(fleet.version);
  useEffect(() => {
    fleet.start();
    return fleet.subscribe(() => setVersion(fleet.version));
  }, []);
  return version;
}

function statusClass(status: string): string {
  if (status === 'failed' || status === 'cancelled') return 'bad';
  if (status === 'complete' || status === 'download_complete') return 'good';
  if (status === 'idle' || status === 'skipped') return 'quiet';
  if (status === 'paused' || status === 'pending') return 'wait';
  return 'busy';
}

function Status({ status, label }: { status: string; label?: string }) {
  return <span class={`status ${statusClass(status)}`}>{(label ?? status).replace(/[_-]/g, ' ')}</span>;
}

function Progress({ value, status }: { value: number; status: string }) {
  return (
    <span class={`progress ${statusClass(status)}`} title={`${value}%`}>
      <span style={{ width: `${Math.max(0, Math.min(100, value))}%` }} />
    </span>
  );
}

function time(at: string | null): string {
  return at ? new Date(at).toLocaleTimeString() : '';
}

// ---- operator ----

function useOperator(): [boolean, (token: string) => void] {
  const [operator, setOperator] = useState(false);
  const check = (): void => {
    void isOperator().then(setOperator);
  };
  useEffect(check, []);
  return [
    operator,
    (token: string) => {
      setOperatorToken(token);
      check();
    },
  ];
}

function OperatorControl({ operator, onToken }: { operator: boolean; onToken: (t: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(operatorToken());
  if (operator) {
    return (
      <span class="operator" data-testid="operator">
        operator <button onClick={() => onToken('')}>sign out</button>
      </span>
    );
  }
  if (!editing) {
    return (
      <span class="operator" data-testid="operator">
        read-only <button onClick={() => setEditing(true)}>operator token…</button>
      </span>
    );
  }
  return (
    <form
      class="operator"
      onSubmit={(e) => {
        e.preventDefault();
        onToken(value.trim());
        setEditing(false);
      }}
    >
      <input type="password" placeholder="ui-operator-token from the data dir" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">use</button>
    </form>
  );
}

function ActionButton({ id, what, action, label, kind = 'jobs' }: { id: string; what: string; action: string; label: string; kind?: 'jobs' | 'campaigns' }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <span class="action">
      <button
        disabled={busy}
        onClick={async () => {
          if ((action === 'cancel' || action === 'abort') && !confirm(`${label} ${what}?`)) return;
          setBusy(true);
          setError(await jobAction(id, action, kind));
          setBusy(false);
        }}
      >
        {label}
      </button>
      {error && <span class="error">{error}</span>}
    </span>
  );
}

function JobActions({ job, operator }: { job: JobRow; operator: boolean }) {
  if (!operator || TERMINAL.has(job.status)) return null;
  return (
    <span class="actions">
      {job.paused && <ActionButton id={job.jobId} what={`job ${job.jobId} (${job.hostname})`} action="resume" label="resume" />}
      <ActionButton id={job.jobId} what={`job ${job.jobId} (${job.hostname})`} action="cancel" label="cancel" />
    </span>
  );
}

// ---- header ----

function Header({ live, operator, onToken }: { live: LiveState | null; operator: boolean; onToken: (t: string) => void }) {
  return (
    <header>
      <a href="/" class="brand">
        panos-upgrade <span>fleet</span>
      </a>
      {live && (
        <span class={`live ${live}`} data-testid="live-state">
          {live === 'live' ? '● live' : live === 'connecting' ? '○ connecting' : '○ reconnecting'}
        </span>
      )}
      <span class="spacer" />
      <OperatorControl operator={operator} onToken={onToken} />
    </header>
  );
}

function CampaignActions({ c, operator }: { c: CampaignRow; operator: boolean }) {
  if (!operator || CAMPAIGN_ENDED.has(c.status)) return null;
  const what = `campaign ${c.name || c.campaign_id}`;
  const wave = c.waves[c.wave - 1];
  return (
    <span class="actions">
      {wave?.status === 'awaiting-approval' && <ActionButton id={c.campaign_id} kind="campaigns" what={what} action="approve" label="approve" />}
      {c.status === 'paused' ? (
        <ActionButton id={c.campaign_id} kind="campaigns" what={what} action="resume" label="resume" />
      ) : (
        <ActionButton id={c.campaign_id} kind="campaigns" what={what} action="pause" label="pause" />
      )}
      <ActionButton id={c.campaign_id} kind="campaigns" what={what} action="abort" label="abort" />
    </span>
  );
}

function waveStatus(status: string): string {
  return status === 'passed' ? 'complete' : status === 'stopped' ? 'failed' : status === 'awaiting-approval' || status === 'soaking' ? 'paused' : status === 'waiting' ? 'pending' : 'running';
}

function Campaigns({ campaigns, operator }: { campaigns: CampaignRow[]; operator: boolean }) {
  if (campaigns.length === 0) return null;
  return (
    <section class="panel" data-testid="campaigns">
      <h2>Campaigns ({campaigns.length})</h2>
      {campaigns.map((c) => {
        const done = c.totals.complete + c.totals.failed + c.totals.cancelled;
        const pct = c.totals.units === 0 ? 0 : Math.round((done / c.totals.units) * 100);
        const st = c.status === 'completed' ? 'complete' : c.status === 'halted' || c.status === 'aborted' ? 'failed' : c.status === 'paused' ? 'paused' : 'running';
        return (
          <div class="campaign" data-campaign={c.campaign_id} data-status={c.status}>
            <div class="chead">
              <b>{c.name || c.campaign_id}</b> {c.name && c.name !== c.campaign_id && <span class="kind">{c.campaign_id}</span>} <Status status={c.status} /> <Progress value={pct} status={st} />{' '}
              <span>
                {done}/{c.totals.units} units · {c.totals.devices} devices · {c.totals.failed} failed{c.target_version ? ` · to ${c.target_version}` : ''}
              </span>
              <CampaignActions c={c} operator={operator} />
            </div>
            <div class="msg">
              {c.message}
              {c.waiting_for && <span class="waiting"> · waits for {c.waiting_for}</span>}
              {c.eta && <span class="quiet"> · ETA {time(c.eta)}</span>}
            </div>
            <div class="waves">
              {c.waves.map((w) => (
                <span class={`wave ${w.wave === c.wave ? 'current' : ''}`} title={`${w.complete} complete, ${w.failed} failed, ${w.running} running, ${w.waiting} waiting`}>
                  <span class="wname">
                    {w.wave}. {w.name}
                  </span>
                  <Status status={waveStatus(w.status)} label={w.status} />
                  <span class="quiet">
                    {w.complete + w.failed + w.cancelled}/{w.units}
                    {w.failed > 0 ? `, ${w.failed} failed` : ''}
                    {w.status === 'soaking' && w.soak_until ? `, soak until ${time(w.soak_until)}` : ''}
                    {w.status === 'awaiting-approval' ? ', awaits approval' : ''}
                  </span>
                </span>
              ))}
            </div>
          </div>
        );
      })}
    </section>
  );
}

// ---- fleet page ----

interface Filters {
  site: string;
  status: string;
  version: string;
  model: string;
  group: string;
  search: string;
}

const NO_FILTERS: Filters = { site: '', status: '', version: '', model: '', group: '', search: '' };

function distinct(rows: Iterable<DeviceRow>, pick: (d: DeviceRow) => string | null): string[] {
  const out = new Set<string>();
  for (const d of rows) {
    const v = pick(d);
    if (v) out.add(v);
  }
  return [...out].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

function Select({ label, value, values, onChange, counts }: { label: string; value: string; values: string[]; onChange: (v: string) => void; counts?: Map<string, number> }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} data-testid={`filter-${label}`}>
        <option value="">all</option>
        {values.map((v) => (
          <option value={v}>
            {v}
            {counts ? ` (${counts.get(v) ?? 0})` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

function DeviceTable({ rows, total }: { rows: DeviceRow[]; total: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualRows(rows.length, () => scroller.current, ROW_HEIGHT);
  return (
    <div class="table">
      <div class="thead row">
        <span class="c-serial">serial</span>
        <span class="c-host">hostname</span>
        <span class="c-model">model</span>
        <span class="c-version">version</span>
        <span class="c-ha">HA</span>
        <span class="c-status">status</span>
        <span class="c-progress">progress</span>
        <span class="c-message">message</span>
      </div>
      <div class="tbody" ref={scroller} data-testid="device-rows" style={{ height: `${Math.max(ROW_HEIGHT * 3, Math.min(480, rows.length * ROW_HEIGHT))}px` }}>
        <div style={{ height: `${virtual.getTotalSize()}px`, position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const d = rows[item.index]!;
            return (
              <div key={d.serial} class="row" data-serial={d.serial} data-status={d.status} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: `${ROW_HEIGHT}px`, transform: `translateY(${item.start}px)` }}>
                <span class="c-serial mono">{d.serial}</span>
                <span class="c-host">{d.hostname}</span>
                <span class="c-model">{d.model}</span>
                <span class="c-version mono">{d.version}</span>
                <span class="c-ha">{d.haState ?? ''}</span>
                <span class="c-status">
                  <Status status={d.status} />
                </span>
                <span class="c-progress">{d.jobId && <Progress value={d.progress} status={d.status} />}</span>
                <span class="c-message" title={d.reason ?? d.message}>
                  {d.jobId ? <a href={`/jobs/${d.jobId}`}>{d.reason ?? d.message}</a> : ''}
                </span>
              </div>
            );
          })}
        </div>
      </div>
      <div class="tfoot" data-testid="device-shown">
        {rows.length === total ? `${total} devices` : `${rows.length} of ${total} devices`}
      </div>
    </div>
  );
}

function JobLine({ job, operator }: { job: JobRow; operator: boolean }) {
  return (
    <li class="job" data-job={job.jobId} data-status={job.status}>
      <a href={`/jobs/${job.jobId}`} class="who">
        {job.hostname || job.devices.join(' + ')}
      </a>
      <span class="kind">{job.kind}</span>
      <Status status={job.status} />
      <Progress value={job.progress} status={job.status} />
      <span class="pct">{job.progress}%</span>
      <span class="msg">{job.message}</span>
      <JobActions job={job} operator={operator} />
    </li>
  );
}

function FleetPage({ operator, onToken }: { operator: boolean; onToken: (t: string) => void }) {
  const version = useFleet();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const set = (k: keyof Filters) => (v: string) => setFilters({ ...filters, [k]: v });

  const all = useMemo(() => [...fleet.devices.values()], [version]);
  const jobs = useMemo(() => [...fleet.jobs.values()].sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? '')), [version]);
  const statusCounts = useMemo(() => {
    const m = new Map<string, number>();
    for (const d of all) m.set(d.status, (m.get(d.status) ?? 0) + 1);
    return m;
  }, [all]);
  const versions = useMemo(() => distinct(all, (d) => d.version), [all]);
  const models = useMemo(() => distinct(all, (d) => d.model), [all]);
  const groups = useMemo(() => distinct(all, (d) => d.group), [all]);
  const sites = useMemo(() => distinct(all, (d) => d.site), [all]);
  const rows = useMemo(() => {
    const q = filters.search.trim().toLowerCase();
    return all
      .filter(
        (d) =>
          (!filters.status || d.status === filters.status) &&
          (!filters.version || d.version === filters.version) &&
          (!filters.model || d.model === filters.model) &&
          (!filters.group || d.group === filters.group) &&
          (!filters.site || d.site === filters.site) &&
          (!q || d.serial.includes(q) || d.hostname.toLowerCase().includes(q)),
      )
      .sort((a, b) => a.serial.localeCompare(b.serial));
  }, [all, filters]);

  const campaigns = useMemo(() => [...fleet.campaigns.values()].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? '')), [version]);
  const active = jobs.filter((j) => !TERMINAL.has(j.status) && !j.parentId && !j.kind.startsWith('ha-'));
  const pairs = jobs.filter((j) => j.kind.startsWith('ha-'));
  const failures = jobs.filter((j) => j.status === 'failed').reverse();
  const done = jobs.filter((j) => !j.parentId && TERMINAL.has(j.status)).length;

  return (
    <>
    <Header live={fleet.state} operator={operator} onToken={onToken} />
    <main>
      <section class="cards">
        <div class="card">
          <b data-testid="device-count">{all.length}</b> devices
        </div>
        <div class="card">
          <b data-testid="active-count">{jobs.filter((j) => !TERMINAL.has(j.status) && !j.parentId).length}</b> active jobs
        </div>
        <div class="card">
          <b>{done}</b> finished
        </div>
        <div class="card bad">
          <b data-testid="failed-count">{failures.length}</b> failed
        </div>
        <div class="chips">
          {[...statusCounts.entries()]
            .sort((a, b) => b[1] - a[1])
            .map(([s, n]) => (
              <button class={`chip ${statusClass(s)} ${filters.status === s ? 'on' : ''}`} onClick={() => set('status')(filters.status === s ? '' : s)}>
                {s.replace('_', ' ')} {n}
              </button>
            ))}
        </div>
      </section>

      <Campaigns campaigns={campaigns.slice(0, 10)} operator={operator} />

      <div class="columns">
        <section class="panel">
          <h2>Running and queued jobs ({active.length})</h2>
          {active.length === 0 ? (
            <p class="quiet">none</p>
          ) : (
            <ul class="jobs" data-testid="active-jobs">
              {active.slice(0, 200).map((j) => (
                <JobLine job={j} operator={operator} />
              ))}
              {active.length > 200 && <li class="quiet">… and {active.length - 200} more (filter the device table)</li>}
            </ul>
          )}
        </section>
        <section class="panel">
          <h2>HA pairs ({pairs.length})</h2>
          {pairs.length === 0 ? (
            <p class="quiet">no HA pair job yet</p>
          ) : (
            <ul class="jobs" data-testid="ha-pairs">
              {pairs
                .slice(-50)
                .reverse()
                .map((j) => (
                  <li class="job" data-job={j.jobId} data-status={j.status}>
                    <a href={`/jobs/${j.jobId}`} class="who">
                      {j.hostname}
                    </a>
                    <span class="kind">{j.step ?? j.kind}</span>
                    <Status status={j.status} />
                    <Progress value={j.progress} status={j.status} />
                    <span class="pct">{j.progress}%</span>
                    <span class="msg">{j.reason ?? j.message}</span>
                    <JobActions job={j} operator={operator} />
                  </li>
                ))}
            </ul>
          )}
        </section>
      </div>

      <section class="panel">
        <h2>Failures ({failures.length})</h2>
        {failures.length === 0 ? (
          <p class="quiet">none</p>
        ) : (
          <ul class="failures" data-testid="failures">
            {failures.slice(0, 100).map((j) => (
              <li data-job={j.jobId}>
                <a href={`/jobs/${j.jobId}`}>{j.hostname || j.devices.join(' + ')}</a> <span class="kind">{j.kind}</span> <span class="kind">{j.step ?? ''}</span>{' '}
                <span class="reason">{j.reason ?? j.message}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="panel devices">
        <h2>Devices</h2>
        <div class="filters">
          <label>
            search
            <input type="search" placeholder="serial or hostname" value={filters.search} onInput={(e) => set('search')((e.target as HTMLInputElement).value)} data-testid="search" />
          </label>
          <Select label="status" value={filters.status} values={[...statusCounts.keys()].sort()} onChange={set('status')} counts={statusCounts} />
          <Select label="version" value={filters.version} values={versions} onChange={set('version')} />
          <Select label="model" value={filters.model} values={models} onChange={set('model')} />
          {groups.length > 0 && <Select label="group" value={filters.group} values={groups} onChange={set('group')} />}
          <Select label="site" value={filters.site} values={sites} onChange={set('site')} />
          {filters !== NO_FILTERS && <button onClick={() => setFilters(NO_FILTERS)}>clear</button>}
        </div>
        <DeviceTable rows={rows} total={all.length} />
      </section>
    </main>
    </>
  );
}

// ---- job page ----

interface StepView {
  step: string;
  hop: number;
  version: string | null;
  state: 'running' | 'done' | 'failed';
  attempts: number;
  reason: string | null;
  at: string;
}

/** The steps of a job from its timeline: each (step, hop) with its last state. */
function stepsOf(jobId: string, raw: TimelineLine[]): StepView[] {
  const steps = new Map<string, StepView>();
  for (const e of raw) {
    if (!e.step || e.stream !== `job:${jobId}`) continue;
    const { step, hop, version } = e.step;
    const key = `${step}|${hop}`;
    const s: StepView = steps.get(key) ?? { step, hop, version, state: 'running', attempts: 0, reason: null, at: e.at };
    if (e.type === 'job.step.started') {
      s.state = 'running';
      s.reason = null;
      s.attempts++;
    } else if (e.type === 'job.step.completed') s.state = 'done';
    else if (e.type === 'job.step.failed') {
      s.state = 'failed';
      s.reason = e.step.reason ?? e.summary;
    }
    steps.set(key, s);
  }
  return [...steps.values()];
}

type Checks = NonNullable<JobDetail['postflight']>['checks'];

function MetricsTable({ pre, post, checks }: { pre: Metrics | null; post: Metrics | null; checks: Checks }) {
  // The comparison once it ran; before that the snapshot areas' counts.
  const areas = checks.length > 0 ? checks.map((c) => c.area) : Object.keys(pre?.areas ?? {});
  return (
    <table class="small" data-testid="postflight">
      <tr>
        <th>area</th>
        <th>before</th>
        <th>after</th>
        <th>change</th>
        <th />
      </tr>
      {areas.map((area) => {
        const check = checks.find((c) => c.area === area);
        const before = check && !check.unavailable ? check.before : pre?.areas[area]?.count;
        const after = check && !check.unavailable ? check.after : post?.areas[area]?.count;
        return (
          <tr>
            <td>{area.replace('_', ' ')}</td>
            <td>{before ?? '–'}</td>
            <td>{after ?? '–'}</td>
            <td>{check?.changePct ? `${check.changePct > 0 ? '+' : ''}${check.changePct}%` : ''}</td>
            <td>
              {check?.unavailable ? (
                <span class="status quiet">not compared</span>
              ) : check ? (
                check.ok ? (
                  <span class="status good">ok</span>
                ) : (
                  <span class={`status ${check.severity === 'block' ? 'bad' : 'wait'}`} title={check.problems.join('; ')}>
                    {check.severity === 'block' ? 'failed' : 'changed'}
                  </span>
                )
              ) : (
                ''
              )}
            </td>
          </tr>
        );
      })}
    </table>
  );
}

function JobPage({ jobId, operator }: { jobId: string; operator: boolean }) {
  const [detail, setDetail] = useState<JobDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [live, setLive] = useState<LiveState>('connecting');
  const reload = useRef<() => void>(() => undefined);
  useEffect(() => {
    let timer: number | undefined;
    const load = (): void => {
      getJson<JobDetail>(`/api/jobs/${encodeURIComponent(jobId)}`).then(setDetail, (e: Error) => setError(e.message));
    };
    reload.current = () => {
      if (timer === undefined) timer = window.setTimeout(() => ((timer = undefined), load()), 150);
    };
    load();
    const source = new EventSource(`/api/stream?job=${encodeURIComponent(jobId)}`);
    source.addEventListener('hello', () => {
      setLive('live');
      load();
    });
    source.addEventListener('job', () => reload.current());
    source.onerror = () => setLive('reconnecting');
    return () => {
      source.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [jobId]);

  if (error) return <main class="panel">Cannot load job {jobId}: {error}</main>;
  if (!detail) return <main class="panel">loading…</main>;
  const { job, record } = detail;
  const steps = stepsOf(job.jobId, detail.timeline);
  const validated = detail.readiness?.validated;
  return (
    <main>
      <section class="panel jobhead" data-job={job.jobId} data-status={job.status}>
        <h1>
          {job.hostname || job.devices.join(' + ')} <span class="kind">{job.kind}</span> <Status status={job.status} />{' '}
          <span class={`live ${live}`} data-testid="live-state">
            {live === 'live' ? '● live' : '○'}
          </span>
        </h1>
        <p class="mono">
          job {job.jobId} · {job.devices.join(' + ')} · path {record.path.join(' → ') || '–'}
          {job.parentId && (
            <>
              {' '}
              · part of <a href={`/jobs/${job.parentId}`}>HA pair job {job.parentId}</a>
            </>
          )}
        </p>
        <div class="bigprogress">
          <Progress value={job.progress} status={job.status} /> <b data-testid="job-progress">{job.progress}%</b> <span data-testid="job-message">{job.reason ?? job.message}</span>
        </div>
        <JobActions job={job} operator={operator} />
      </section>

      <div class="columns">
        <section class="panel">
          <h2>Steps</h2>
          {steps.length === 0 ? (
            <p class="quiet">not started</p>
          ) : (
            <table class="small" data-testid="steps">
              <tr>
                <th>step</th>
                <th>version</th>
                <th>state</th>
                <th>attempts</th>
                <th>started</th>
              </tr>
              {steps.map((s) => (
                <tr>
                  <td>{s.step}</td>
                  <td class="mono">{s.version ?? ''}</td>
                  <td>
                    <Status status={s.state === 'done' ? 'complete' : s.state === 'failed' ? 'failed' : 'running'} />
                    {s.reason && <div class="reason">{s.reason}</div>}
                  </td>
                  <td>{s.attempts}</td>
                  <td>{time(s.at)}</td>
                </tr>
              ))}
            </table>
          )}
          {detail.children.length > 0 && (
            <>
              <h2>Peers</h2>
              <ul class="jobs">
                {detail.children.map((c) => (
                  <JobLine job={c} operator={operator} />
                ))}
              </ul>
            </>
          )}
        </section>
        <section class="panel">
          <h2>Readiness</h2>
          {validated ? (
            <ul class="facts" data-testid="readiness">
              <li>running {validated.swVersion}</li>
              <li>
                free disk {validated.freeDiskMb} MB, needed {validated.neededMb} MB
              </li>
              {validated.contentUpdate !== undefined && !(validated.notes ?? []).some((n) => n.startsWith('content update')) && <li>content update {validated.contentUpdate ? 'needed' : 'not needed'}</li>}
              {[...new Set([...(validated.notes ?? []), ...(detail.readiness?.notes ?? [])])].map((n) => (
                <li>{n}</li>
              ))}
            </ul>
          ) : (
            <p class="quiet">no readiness results yet</p>
          )}
          {detail.readiness?.report && (
            <table class="small" data-testid="readiness-checks">
              <tr>
                <th>check</th>
                <th>result</th>
                <th>severity</th>
                <th>says</th>
              </tr>
              {detail.readiness.report.verdicts.map((v) => (
                <tr class={v.blocking ? 'bad' : ''}>
                  <td title={v.check}>{v.title}</td>
                  <td>
                    <Status status={v.status === 'pass' ? 'complete' : v.status === 'fail' ? (v.blocking ? 'failed' : 'paused') : v.status === 'warn' ? 'paused' : 'skipped'} label={v.status} />
                  </td>
                  <td>{v.severity}</td>
                  <td>{v.message}</td>
                </tr>
              ))}
            </table>
          )}
          {detail.postflight && (detail.readiness?.pre || detail.postflight.post) && (
            <>
              <h2>Pre- and post-flight</h2>
              <MetricsTable pre={detail.readiness?.pre ?? null} post={detail.postflight.post} checks={detail.postflight.checks} />
            </>
          )}
        </section>
      </div>

      <section class="panel">
        <h2>Timeline ({detail.timeline.length} events)</h2>
        <table class="small timeline" data-testid="timeline">
          {detail.timeline.map((e) => (
            <tr class={e.type.endsWith('failed') ? 'bad' : ''}>
              <td class="mono">{time(e.at)}</td>
              <td class="mono">{e.stream === `job:${job.jobId}` ? '' : e.stream}</td>
              <td class="mono">{e.type}</td>
              <td>{e.summary}</td>
            </tr>
          ))}
        </table>
      </section>
    </main>
  );
}

function App() {
  const [operator, onToken] = useOperator();
  const jobMatch = /^\/jobs\/([^/]+)$/.exec(location.pathname);
  if (jobMatch) {
    return (
      <>
        <Header live={null} operator={operator} onToken={onToken} />
        <JobPage jobId={decodeURIComponent(jobMatch[1]!)} operator={operator} />
      </>
    );
  }
  return <FleetPage operator={operator} onToken={onToken} />;
}

render(<App />, document.getElementById('app')!);
