import { defineConfig, devices } from '@playwright/test';

/**
 * Browser tests against the real server (tests/fixtures.ts starts one per worker on a random port
 * with a temp SQLite database, serving web/build). Debian's Chromium only: never a download.
 * The global setup builds the web app and the server when their sources changed since the last
 * build, so `npx playwright test -c web/playwright.config.ts` always tests the sources as they are.
 */
export default defineConfig({
  testDir: 'tests',
  globalSetup: './tests/global-setup.ts',
  outputDir: 'test-results',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  // Every wait is on a condition (an element, a response); these are only the bounds past which a
  // wait counts as a failure. They are generous because the suite must pass on a busy machine: a
  // run beside another build once took 45 s for one click's consequences. Passing tests do not
  // get slower for it.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    // Recording a trace of every test, kept only for failures, made the suite ~15 % slower
    // (workspace and uploads specs: 133–134 s with it, 114–115 s without). To see a failure
    // step by step, run it again with `--trace retain-on-failure`.
    trace: 'off',
    screenshot: 'only-on-failure',
    actionTimeout: 30_000,
    navigationTimeout: 45_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 1320, height: 860 },
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
