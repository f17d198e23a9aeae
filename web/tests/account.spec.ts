import { expect, screenshot, test } from './fixtures';

test('account page: API token create, copy and revoke; sign out everywhere', async ({
  page,
  context,
  api,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const user = await api.register({ name: 'Tess Token' });
  // Sign in through the form, as a person would.
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/workspace/);

  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Account' })
    .click();
  await expect(page.getByRole('heading', { name: 'Account', level: 1 })).toBeVisible();
  await expect(page.getByTestId('account-email')).toHaveText(user.email);
  await expect(page.getByTestId('tokens-empty')).toBeVisible();
  // The session lives in the HttpOnly cookie only (the page never sees it).
  const cookie = (await context.cookies()).find((c) => c.name === 'cabinet_session');
  expect(cookie?.httpOnly).toBe(true);
  const sessionToken = cookie!.value;
  const me = await api.gql<{ me: { email: string } }>('{ me { email } }', {}, sessionToken);
  expect(me.data?.me.email).toBe(user.email);

  await page.getByLabel('Name', { exact: true }).fill('Backup script');
  await page.getByRole('checkbox', { name: /Upload/ }).check();
  await page.getByLabel('Expires').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();

  const dialog = page.getByTestId('token-secret-dialog');
  await expect(dialog).toBeVisible();
  const secret = await page.getByTestId('new-token-secret').inputValue();
  expect(secret).toMatch(/^cab_/);
  await dialog.getByRole('button', { name: 'Copy' }).click();
  await expect(dialog.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await screenshot(page, 'account-token-secret');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();

  // The secret works as a Bearer token, then shows its last use.
  const viaToken = await api.gql<{ me: { email: string } }>('{ me { email } }', {}, secret);
  expect(viaToken.data?.me.email).toBe(user.email);
  const row = page.getByTestId('token-row').filter({ hasText: 'Backup script' });
  await expect(row).toContainText('download');
  await expect(row).toContainText('upload');
  await page.reload();
  await expect(row).toContainText(/ago|now/);
  await screenshot(page, 'account');

  await row.getByRole('button', { name: 'Revoke token Backup script' }).click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText('stop working at once');
  await confirm.getByRole('button', { name: 'Revoke token' }).click();
  await expect(page.getByTestId('tokens-empty')).toBeVisible();
  const revoked = await api.gql<{ me: null }>('{ me { email } }', {}, secret);
  expect(revoked.data?.me).toBeNull();

  // Sign out everywhere ends this session too: its token stops working.
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await confirm.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page).toHaveURL(/\/login\?reason=everywhere/);
  await expect(page.getByTestId('login-notice')).toContainText('signed out on every device');
  const ended = await api.gql<{ me: null }>('{ me { email } }', {}, sessionToken);
  expect(ended.data?.me).toBeNull();
});
