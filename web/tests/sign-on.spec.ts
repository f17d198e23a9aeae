import { expect, screenshot, test } from './fixtures';

// Issue 17, single sign-on: the sign-in page offers the configured provider, and a refused
// sign-on comes back to it with its reason. The provider here cannot be reached (port 9), so the
// server's /auth/oidc/start sends the browser straight back; the whole flow against a real
// provider is tested over HTTP in server/src/modules/oidc/oidc.test.ts.

test.use({
  ownServer: true,
  serverEnv: {
    OIDC_ISSUER: 'http://127.0.0.1:9/',
    OIDC_CLIENT_ID: 'cabinet',
    OIDC_NAME: 'Team IdP',
  },
});

test('sign-in page offers "Sign in with <provider>" and shows why a sign-on was refused', async ({
  page,
}) => {
  await page.goto('/login');
  const button = page.getByRole('link', { name: 'Sign in with Team IdP' });
  await expect(button).toBeVisible();
  // Password sign-in is still on: the form, passkeys and registration stay beside the button.
  await expect(page.getByLabel('Email')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Use a passkey' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create an account' })).toBeVisible();
  await screenshot(page, 'login-password-passkey-sign-on');
  await button.click();
  await expect(page).toHaveURL(/\/login\?error=oidc_unavailable$/);
  await expect(page.getByTestId('sign-on-error')).toContainText('cannot be reached');
});
