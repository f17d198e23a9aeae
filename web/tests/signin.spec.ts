import { expect, screenshot, signIn, test, type Api, type TestUser } from './fixtures';
import { Secret, TOTP } from 'otpauth';

// Issue 17: sessions you can see and end, password change, admin reset links.

const LOGIN = `mutation ($email: String!, $password: String!) {
  login(email: $email, password: $password) { token } }`;

async function otherSession(
  api: { gql: <T>(q: string, v?: Record<string, unknown>) => Promise<{ data?: T | null }> },
  user: TestUser,
) {
  const res = await api.gql<{ login: { token: string } }>(LOGIN, {
    email: user.email,
    password: user.password,
  });
  return res.data!.login.token;
}

test('account page lists sessions, revokes one, and changing the password ends the others', async ({
  page,
  api,
}) => {
  const user = await api.register({ name: 'Sam Sessions' });
  await signIn(page, user);
  const other = await otherSession(api, user);
  await page.goto('/account');

  const card = page.getByTestId('sessions-card');
  const rows = card.getByTestId('session-row');
  // register, the page's sign-in, and the other one.
  await expect(rows).toHaveCount(3);
  const current = rows.filter({ has: page.getByTestId('session-current') });
  await expect(current).toHaveCount(1);
  await expect(current).toContainText('Chrome');
  await expect(current).toContainText('127.0.0.1');
  // Dates as the rest of the app writes them ("Dec 4, 17:11"), the full one on hover.
  const signedIn = current.locator('time').first();
  await expect(signedIn).toHaveText(/^[A-Z][a-z]{2} \d{1,2}, \d{2}:\d{2}$/);
  await expect(signedIn).toHaveAttribute(
    'title',
    /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}:\d{2}$/,
  );

  // Revoke one that is not this browser: it stops working at once.
  await rows
    .filter({ hasNot: page.getByTestId('session-current') })
    .first()
    .getByRole('button', { name: 'Revoke' })
    .click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Sign out' }).click();
  await expect(rows).toHaveCount(2);

  // Change the password: the remaining other session ends, this one stays.
  const password = page.getByTestId('password-card');
  await password.getByLabel('Current password').fill('not the password');
  await password.getByLabel('New password').fill('a brand new password');
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByTestId('current-password-error')).toBeVisible();
  await password.getByLabel('Current password').fill(user.password);
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('session-current')).toBeVisible();
  const me = await api.gql<{ me: { id: string } | null }>('{ me { id } }', {}, other);
  expect(me.data?.me ?? null).toBeNull();
  const fresh = await api.gql<{ login: { token: string } }>(LOGIN, {
    email: user.email,
    password: 'a brand new password',
  });
  expect(fresh.data?.login.token).toBeTruthy();

  // Signing this browser out from the list goes to the sign-in page.
  await rows.first().getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
});

test('an admin hands out a reset link; the user sets a new password with it, once', async ({
  page,
  browser,
  api,
  cabinet,
}) => {
  const user = await api.register({ name: 'Rita Reset' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');
  await page.getByRole('row').filter({ hasText: user.email }).getByTestId('user-actions').click();
  await page.getByTestId('reset-link-item').click();
  const link = await page.getByTestId('reset-link').inputValue();
  expect(link).toMatch(/\/reset-password#/);

  const context = await browser.newContext();
  const visitor = await context.newPage();
  await visitor.goto(link);
  await visitor.getByLabel('New password').fill('short');
  await visitor.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(visitor.getByTestId('password-error')).toBeVisible();
  await visitor.getByLabel('New password').fill('reset by link 2026');
  await visitor.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(visitor).toHaveURL(/\/workspace/);
  // The user's earlier session ended; the new password works.
  const me = await api.gql<{ me: { id: string } | null }>('{ me { id } }', {}, user.token);
  expect(me.data?.me ?? null).toBeNull();

  // Used once: opening it again fails.
  const again = await context.newPage();
  await context.clearCookies();
  await again.goto(link);
  await again.getByLabel('New password').fill('another password 1');
  await again.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(again.getByTestId('form-error')).toContainText('invalid, used or expired');
  await context.close();
});

test('two-factor: set up with the QR code, then sign in with a code', async ({ page, api }) => {
  const user = await api.register({ name: 'Tara Totp' });
  await signIn(page, user);
  await page.goto('/account');
  const card = page.getByTestId('two-factor-card');
  await card.getByRole('button', { name: 'Set up two-factor' }).click();
  const qr = card.getByTestId('totp-qr');
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  await screenshot(page, 'account-two-factor-setup');
  // Shown in groups of four, as a person types it into an app; copied without the spaces.
  const shown = (await card.getByTestId('totp-secret').textContent())!.trim();
  expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
  const secret = shown.replace(/ /g, '');
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });

  await card
    .getByLabel('Code from the app')
    .fill(totp.generate() === '000000' ? '111111' : '000000');
  await card.getByRole('button', { name: 'Turn on' }).click();
  await expect(card.getByTestId('totp-code-error')).toBeVisible();
  await card.getByLabel('Code from the app').fill(totp.generate());
  await card.getByRole('button', { name: 'Turn on' }).click();
  const codes = card.getByTestId('recovery-codes').getByRole('listitem');
  await expect(codes).toHaveCount(10);
  await card.getByRole('button', { name: 'Done' }).click();
  await expect(card.getByTestId('two-factor-on')).toContainText('10 recovery codes left');

  // Sign out, then in again: the password alone is not enough.
  await page.context().clearCookies();
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const codeField = page.getByLabel('Two-factor code');
  await expect(codeField).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  await codeField.fill('123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('totp-error')).toBeVisible();
  // The step used by the setup is spent; the next one (within the drift window) is accepted.
  await codeField.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/workspace/);
});

test('passkeys: add one with a virtual authenticator, sign in with it alone, remove it', async ({
  page,
  api,
  cabinet,
}) => {
  // WebAuthn refuses IP addresses as relying party ids: use the same server as "localhost".
  const origin = cabinet.url.replace('127.0.0.1', 'localhost');
  const user = await api.register({ name: 'Pia Passkey' });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto(`${origin}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/workspace/);
  await page.goto(`${origin}/account`);
  const card = page.getByTestId('passkeys-card');
  await card.getByLabel('Name for a new passkey').fill('Virtual key');
  await card.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(card.getByTestId('passkey-row')).toHaveCount(1);
  await expect(card.getByTestId('passkey-row')).toContainText('Virtual key');
  await expect(card.getByTestId('passkey-row')).toContainText('never used');

  // Signed out, the passkey alone signs in: no email, no password.
  await page.context().clearCookies();
  await page.goto(`${origin}/login`);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page).toHaveURL(/\/workspace/);
  await page.goto(`${origin}/account`);
  await expect(card.getByTestId('passkey-row')).toContainText('last used');

  await card.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
  await expect(card.getByTestId('passkey-row')).toHaveCount(0);
  // The authenticator still holds the credential, but the server no longer knows it.
  await page.context().clearCookies();
  await page.goto(`${origin}/login`);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByTestId('form-error')).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

/** Turns two-factor on for `user` through the API; answers the app's TOTP and the codes. */
async function withTotp(api: Api, user: TestUser) {
  const setup = await api.gql<{ startTotpSetup: { secret: string } }>(
    'mutation { startTotpSetup { secret } }',
    {},
    user.token,
  );
  const totp = new TOTP({ secret: Secret.fromBase32(setup.data!.startTotpSetup.secret) });
  const confirmed = await api.gql<{ confirmTotp: string[] }>(
    'mutation($code: String!) { confirmTotp(code: $code) }',
    { code: totp.generate() },
    user.token,
  );
  return { totp, codes: confirmed.data!.confirmTotp };
}

test('two-factor: new recovery codes after a confirmation and a current code, shown once', async ({
  page,
  api,
}) => {
  const user = await api.register({ name: 'Rhea Recovery' });
  const { totp, codes } = await withTotp(api, user);
  // Signed in with one recovery code: nine left.
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Two-factor code').fill(codes[0]!);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/workspace/);
  await page.goto('/account');
  const card = page.getByTestId('two-factor-card');
  await expect(card.getByTestId('two-factor-on')).toContainText('9 recovery codes left');

  // The button first says what happens; Cancel changes nothing.
  await card.getByRole('button', { name: 'New recovery codes…' }).click();
  const form = card.getByTestId('regenerate-form');
  await expect(form).toContainText('the old ones stop working');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(form).toHaveCount(0);
  await card.getByRole('button', { name: 'New recovery codes…' }).click();
  await form
    .getByLabel('Code from the app')
    .fill('000000' === totp.generate() ? '111111' : '000000');
  await form.getByRole('button', { name: 'Replace recovery codes' }).click();
  await expect(card.getByTestId('regenerate-code-error')).toBeVisible();
  // The step the setup used is spent; the next one (within the drift window) proves the app.
  await form
    .getByLabel('Code from the app')
    .fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await form.getByRole('button', { name: 'Replace recovery codes' }).click();
  const shown = card.getByTestId('recovery-codes').getByRole('listitem');
  await expect(shown).toHaveCount(10);
  const fresh = await shown.allTextContents();
  expect(fresh.some((c) => codes.includes(c.trim()))).toBe(false);
  await card.getByRole('button', { name: 'Done' }).click();
  await expect(card.getByTestId('two-factor-on')).toContainText('10 recovery codes left');
  await expect(card.getByTestId('recovery-codes')).toHaveCount(0);

  // An old code no longer signs in; a new one does.
  const LOGIN = `mutation($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, totp: $t) { token } }`;
  const old = await api.gql(LOGIN, { e: user.email, p: user.password, t: codes[1] });
  expect(old.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  const ok = await api.gql(LOGIN, { e: user.email, p: user.password, t: fresh[0]!.trim() });
  expect(ok.errors).toBeUndefined();
});

test('an admin turns off a user’s two-factor from the Users page, after a confirmation', async ({
  page,
  api,
  cabinet,
}) => {
  const user = await api.register({ name: 'Lou Lostphone' });
  await withTotp(api, user);
  const other = await api.register({ name: 'Nia Noauth' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');
  // Only users with two-factor on have the item.
  await page.getByRole('row').filter({ hasText: other.email }).getByTestId('user-actions').click();
  await expect(page.getByRole('menuitem', { name: /Storage quota/ })).toBeVisible();
  await expect(page.getByTestId('disable-totp-item')).toHaveCount(0);
  await page.keyboard.press('Escape');

  const row = page.getByRole('row').filter({ hasText: user.email });
  await row.getByTestId('user-actions').click();
  await page.getByTestId('disable-totp-item').click();
  const dialog = page.getByRole('alertdialog').or(page.getByRole('dialog'));
  await expect(dialog).toContainText(`Turn off two-factor for ${user.email}?`);
  await dialog.getByRole('button', { name: 'Turn off two-factor' }).click();
  await expect(page.getByText(`Two-factor sign-in is off for ${user.email}.`)).toBeVisible();
  // The password alone signs in now.
  const login = await api.gql<{ login: { token: string } }>(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
    { e: user.email, p: user.password },
  );
  expect(login.errors).toBeUndefined();
  await row.getByTestId('user-actions').click();
  await expect(page.getByTestId('reset-link-item')).toBeVisible();
  await expect(page.getByTestId('disable-totp-item')).toHaveCount(0);
});
