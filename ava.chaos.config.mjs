// The chaos rehearsals (npm run test:chaos): `panos-upgrade chaos` as a user runs it, on a fleet with every kind
// of fault, the daemon killed while it runs, starts and resumes; two seeds. Kept out of npm test for its length
// (about a minute of two cores), run by CI (.ci/run). `chaos --cluster` is in the cluster suite.
export default {
  files: ['test/chaos/chaos.e2e.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '600s',
};
