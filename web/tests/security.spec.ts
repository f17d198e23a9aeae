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

test('powerful features the app does not use are off, the ones it uses stay on', async ({
  page,
}) => {
  // Chromium reports a feature it does not know in the header as a console error on every page.
  const complaints: string[] = [];
  page.on('console', (m) => {
    if (/permissions.policy/i.test(m.text())) complaints.push(m.text());
  });
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: /sign in|welcome/i })).toBeVisible();
  const allowed = await page.evaluate(() => {
    const policy = (document as unknown as { featurePolicy: { allowsFeature(f: string): boolean } })
      .featurePolicy;
    return Object.fromEntries(
      ['camera', 'microphone', 'geolocation', 'usb', 'payment', 'clipboard-write', 'fullscreen']
        .concat(['publickey-credentials-get', 'publickey-credentials-create'])
        .map((f) => [f, policy.allowsFeature(f)]),
    );
  });
  expect(allowed).toEqual({
    camera: false,
    microphone: false,
    geolocation: false,
    usb: false,
    payment: false,
    'clipboard-write': true,
    fullscreen: true,
    'publickey-credentials-get': true,
    'publickey-credentials-create': true,
  });
  expect(complaints).toEqual([]);
});
