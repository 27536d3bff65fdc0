// The browser tests (npm run test:browser): headless Chromium against the live view; kept out of npm test.
export default {
  files: ['test/browser/**/*.browser.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '180s',
};
