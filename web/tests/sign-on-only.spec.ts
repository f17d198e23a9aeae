// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the types of oidc-provider live beside the server tests, outside this package; an import cannot bring an ambient module declaration
/// <reference path="../../server/test/oidc-provider.d.ts" />
import { expect, test } from '@playwright/test';
import { oidcEnv, startProvider, type TestProvider } from '../../server/test/sign-on';
import { screenshot, startCabinet } from './fixtures';

// Issue 17, PASSWORD_LOGIN=off: single sign-on is the only way in. A real OpenID provider (the
// certified `oidc-provider`, as in the server's sign-on tests) runs in this process; Chromium
// goes through its login and consent pages and comes back signed in. The server starts on an
// empty library: with no registration, the first-account page must not be offered either.

let provider: TestProvider;
let cabinet: { url: string; stop(): Promise<void> };

test.beforeAll(async () => {
  provider = await startProvider();
  cabinet = await startCabinet(
    oidcEnv(provider, {
      PASSWORD_LOGIN: 'off',
      OIDC_NAME: 'Team IdP',
      OIDC_ADMIN_GROUP: 'cabinet-admins',
    }),
  );
  provider.configure([`${cabinet.url}/auth/oidc/callback`]);
  provider.people.set('olga', {
    email: 'olga@example.com',
    email_verified: true,
    name: 'Olga Org',
    groups: ['cabinet-admins'],
  });
});

test.afterAll(async () => {
  await cabinet?.stop();
  await provider?.close();
});

test('PASSWORD_LOGIN=off: no registration, only "Sign in with <provider>", and it signs in', async ({
  page,
}) => {
  // The registration page, even the first account's, leads to the sign-in page.
  await page.goto(`${cabinet.url}/register?redirectTo=%2Faccount`);
  await expect(page).toHaveURL(`${cabinet.url}/login?redirectTo=%2Faccount`);
  await expect(page.getByTestId('first-account-notice')).toContainText('no accounts yet');
  const button = page.getByRole('link', { name: 'Sign in with Team IdP' });
  await expect(button).toBeVisible();
  // Nothing else: no password form, no passkey, no way to registration anywhere on the page.
  await expect(page.getByLabel('Email')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Use a passkey' })).toHaveCount(0);
  await expect(page.locator('a[href*="register"]')).toHaveCount(0);
  await expect(page.getByText('Accounts come from Team IdP')).toBeVisible();
  await screenshot(page, 'login-sign-on-only');
  // The root of an empty library goes to the sign-in page too, not to a first-account setup.
  await page.goto(`${cabinet.url}/`);
  await expect(page).toHaveURL(`${cabinet.url}/login`);

  // Signing on from a page that asked for sign-in comes back to that page.
  await page.goto(`${cabinet.url}/account`);
  await expect(page).toHaveURL(/\/login\?.*redirectTo=%2Faccount/);
  await page.getByRole('link', { name: 'Sign in with Team IdP' }).click();
  await page.locator('input[name="login"]').fill('olga');
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(`${cabinet.url}/account`);

  // The account page offers no password, two-factor or passkey settings: none of them signs in.
  await expect(page.getByRole('heading', { name: 'Account', level: 1 })).toBeVisible();
  await expect(page.getByText('olga@example.com').first()).toBeVisible();
  await expect(page.getByTestId('two-factor-card')).toHaveCount(0);
  await expect(page.getByTestId('password-card')).toHaveCount(0);
  await expect(page.getByTestId('passkeys-card')).toHaveCount(0);
  // OIDC_ADMIN_GROUP made her an admin; the Users page has no reset-link item without passwords.
  await page.goto(`${cabinet.url}/admin/users`);
  await page.getByTestId('user-actions').first().click();
  await expect(page.getByRole('menuitem', { name: /Storage quota/ })).toBeVisible();
  await expect(page.getByTestId('reset-link-item')).toHaveCount(0);
  await page.keyboard.press('Escape');

  // Signed out, the sign-in page still says so, above the provider's button.
  await page.context().clearCookies();
  await page.goto(`${cabinet.url}/login?reason=signedout`);
  await expect(page.getByTestId('login-notice')).toHaveText('You have been signed out.');
  await expect(page.getByTestId('first-account-notice')).toHaveCount(0);
});
