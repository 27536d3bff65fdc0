import test from 'ava';
import { byJobOrder } from '../../actors/job-order.ts';

// issue 12: jobs queued in the same millisecond (queue-all) came out of job list in a different order each time.
test('job order: when jobs were submitted at the same time then they are ordered by device serial, then job id, whatever order they come in', (t) => {
  const at = '2026-12-04T10:00:00.000Z';
  const jobs = [
    { submitted_at: at, device_serial: '001234567892', job_id: 'b-1' },
    { submitted_at: '2026-12-04T09:59:59.000Z', device_serial: '009', job_id: 'z-9' },
    { submitted_at: at, device_serial: '001234567890', job_id: 'c-2' },
    { submitted_at: at, device_serial: '001234567890', job_id: 'a-1' },
  ];
  const expected = ['z-9', 'a-1', 'c-2', 'b-1'];
  t.deepEqual([...jobs].sort(byJobOrder).map((j) => j.job_id), expected);
  t.deepEqual([...jobs].reverse().sort(byJobOrder).map((j) => j.job_id), expected);
});
