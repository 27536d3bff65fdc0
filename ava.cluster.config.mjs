// The cluster suite (npm run test:cluster): each test starts a private 3-node nats-server cluster on loopback
// ports and several daemons; kept out of npm test for its length, run by CI (.ci/run).
export default {
  files: ['test/cluster/**/*.test.ts', 'test/chaos/chaos-cluster.e2e.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '600s',
};
