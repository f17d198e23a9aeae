import { expect, signIn, test } from './fixtures';

// The app's Content-Security-Policy in a real browser. Every other browser test fails on any
// refusal of it (fixtures.ts), which shows the app itself needs nothing it forbids; this one shows
// it forbids what an injected script would need.
test.use({ allowCspRefusals: true });

type Probe = { refused: string[]; injected?: boolean };

test('a script that reaches the page some other way does not run, nor loads from elsewhere', async ({
  page,
  api,
}) => {
  const user = await api.register();
  await signIn(page, user);
  await page.goto('/workspace');
  await expect(page.getByRole('heading', { name: 'Files' })).toBeVisible();
  const ran = await page.evaluate(() => {
    const probe: Probe = { refused: [] };
    (window as unknown as { probe: Probe }).probe = probe;
    document.addEventListener('securitypolicyviolation', (e) =>
      probe.refused.push(`${e.effectiveDirective} ${e.blockedURI}`),
    );
    // An inline script runs as it is inserted, if it runs at all.
    const inline = document.createElement('script');
    inline.textContent = 'window.probe.injected = true';
    document.body.append(inline);
    const remote = document.createElement('script');
    remote.src = 'https://scripts.example.test/steal.js';
    document.body.append(remote);
    return probe.injected === true;
  });
  expect(ran).toBe(false);
  // Both refusals are reported by the browser (events, in their own time).
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { probe: Probe }).probe.refused))
    .toEqual(['script-src-elem inline', 'script-src-elem https://scripts.example.test/steal.js']);
});

test('no other site may frame the app', async ({ page }) => {
  const res = await page.goto('/login');
  const policy = res!.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("frame-ancestors 'none'");
  expect(res!.headers()['x-frame-options']).toBe('DENY');
});
