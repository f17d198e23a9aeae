import { expect, signIn, test } from './fixtures';

// Users admin: search narrows, ban ends a live session elsewhere and blocks sign-in, unban
// restores it, and the admin's own row cannot be banned or demoted.

test('ban ends an open session and refuses sign-in; unban restores it', async ({
  page,
  browser,
  api,
  cabinet,
}) => {
  const victim = await api.register({ name: 'Victor Banned' });
  await api.register({ name: 'Bystander' });

  // The victim is signed in, in a browser of their own.
  const theirs = await browser.newContext({ baseURL: cabinet.url });
  const victimPage = await theirs.newPage();
  await signIn(victimPage, victim);
  await victimPage.goto('/workspace');
  await expect(victimPage).toHaveURL(/\/workspace/);

  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');
  const rows = page.getByTestId('users-row');
  await expect(rows.first()).toBeVisible();
  const before = Number(await page.getByTestId('table-total').textContent());
  expect(before).toBeGreaterThanOrEqual(3);

  // Searching narrows the table to the one account.
  await page.getByLabel('Search users').fill(victim.email);
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId('table-total')).toHaveText('1');
  await expect(page).toHaveURL(/q=/);

  await page.getByRole('button', { name: `Actions for ${victim.email}` }).click();
  await page.getByRole('menuitem', { name: /Ban/ }).click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText(victim.email);
  await expect(confirm).toContainText(/sessions .* end now/);
  await expect(confirm).toContainText(/blocked/);
  await confirm.getByRole('button', { name: 'Ban user' }).click();
  await expect(rows.first().getByTestId('banned-badge')).toBeVisible();

  // Their open page learns at its next request that the session is gone.
  await victimPage.getByRole('link', { name: 'My downloads' }).first().click();
  await expect(victimPage).toHaveURL(/\/login/);
  await victimPage.getByLabel('Email').fill(victim.email);
  await victimPage.getByLabel('Password', { exact: true }).fill(victim.password);
  await victimPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(victimPage.getByTestId('form-error')).toContainText(/banned/i);

  await page.getByRole('button', { name: `Actions for ${victim.email}` }).click();
  await page.getByRole('menuitem', { name: 'Unban' }).click();
  await expect(rows.first().getByTestId('banned-badge')).toHaveCount(0);

  // Signed in again, and back where the session ended.
  await victimPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(victimPage).toHaveURL(/\/history/);
  await theirs.close();
});

test('the admin cannot ban or demote themselves; promotion asks first', async ({
  page,
  api,
  cabinet,
}) => {
  const other = await api.register({ name: 'Pat Promoted' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');

  await page.getByLabel('Search users').fill(cabinet.admin.email);
  await expect(page.getByTestId('users-row')).toHaveCount(1);
  await page.getByRole('button', { name: `Actions for ${cabinet.admin.email}` }).click();
  const ban = page.getByRole('menuitem', { name: /Ban/ });
  await expect(ban).toHaveAttribute('aria-disabled', 'true');
  await expect(ban).toContainText('You cannot ban yourself.');
  const demote = page.getByRole('menuitem', { name: /Remove admin rights/ });
  await expect(demote).toHaveAttribute('aria-disabled', 'true');
  await expect(demote).toContainText('You cannot demote yourself.');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'Clear search' }).click();
  await page.getByLabel('Search users').fill(other.email);
  await expect(page.getByTestId('users-row')).toHaveCount(1);
  await page.getByRole('button', { name: `Actions for ${other.email}` }).click();
  await page.getByRole('menuitem', { name: 'Make admin' }).click();
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Make admin' }).click();
  await expect(page.getByTestId('users-row').first()).toContainText('Admin');
  await page.getByRole('button', { name: `Actions for ${other.email}` }).click();
  await page.getByRole('menuitem', { name: 'Remove admin rights' }).click();
  await expect(
    page.getByTestId('users-row').first().getByText('User', { exact: true }),
  ).toBeVisible();
});
