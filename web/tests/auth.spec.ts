import { expect, PASSWORD, test, uniqueEmail } from './fixtures';

test('sign-up of the first account makes an admin, the second a user', async ({
  page,
  freshServer,
}) => {
  await page.goto(`${freshServer.url}/register`);
  await page.getByLabel('Name').fill('Grace Hopper');
  await page.getByLabel('Email').fill(uniqueEmail('grace'));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/workspace$/);
  await expect(page.getByRole('link', { name: 'Admin' })).toBeVisible();
});
