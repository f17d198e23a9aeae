import type { Page } from '@playwright/test';
import { expect, holdRequests, PASSWORD, screenshot, signIn, test, uniqueEmail } from './fixtures';

// The account, shell and sign-in defects of the new-user walkthrough (issue 12: 7, 8, 10, 11, 13
// and 14), each checked in the browser the way the user met it.

async function createToken(page: Page, token: string, name: string) {
  const response = await page.request.post('/graphql', {
    headers: { authorization: `Bearer ${token}`, connection: 'close' },
    data: {
      query: `mutation($name: String!) { createApiToken(name: $name, scopes: [READ, DOWNLOAD]) { token } }`,
      variables: { name },
    },
  });
  expect(response.ok()).toBe(true);
}

test('API token scope checkboxes keep their size and the grid has a column per card (7)', async ({
  page,
  cabinet,
}) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page, cabinet.admin);
  await page.goto('/account');
  const cards = page.getByTestId('scope-card');
  // An admin sees six scopes (Statistics and Audit log are theirs only); texts may wrap.
  await expect(cards).toHaveCount(6);
  for (const box of await page.getByTestId('token-form').getByRole('checkbox').all()) {
    const size = (await box.boundingBox())!;
    expect(size.width).toBe(16);
    expect(size.height).toBe(16);
  }
  // The cards share the whole row: no empty column is left after the rightmost one.
  const grid = (await page.getByRole('group', { name: 'Scopes' }).locator('> div').boundingBox())!;
  const boxes = await Promise.all((await cards.all()).map(async (c) => (await c.boundingBox())!));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  expect(Math.abs(right - (grid.x + grid.width))).toBeLessThan(2);
});

test('at 390 px the API tokens are cards with every value and Revoke on screen (8)', async ({
  page,
  api,
}) => {
  const user = await api.register();
  await signIn(page, user);
  await createToken(page, user.token, 'A nightly backup script with a long name');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/account');
  const row = page.getByTestId('token-row');
  await expect(row).toHaveCount(1);
  const revoke = row.getByRole('button', { name: /Revoke token/ });
  const expires = row.locator('[data-label="Expires"]');
  for (const part of [revoke, expires]) {
    const box = (await part.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await expect(row.locator('[data-label="Scopes"]')).toContainText('download');
});

test('the web sign-in never hands the session token to the page; Account says why (10)', async ({
  page,
  api,
}) => {
  const user = await api.register();
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  const login = page.waitForResponse(
    (r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('login('),
  );
  await page.getByRole('button', { name: 'Sign in' }).click();
  const body = (await (await login).json()) as { data: { login: Record<string, unknown> } };
  expect(body.data.login.user).toBeTruthy();
  expect(body.data.login).not.toHaveProperty('token');
  await expect(page).toHaveURL(/\/workspace/);

  await page.goto('/account');
  const card = page.getByTestId('session-card');
  await expect(card).toContainText('secure cookie');
  await expect(page.getByTestId('session-token')).toHaveCount(0);
  await expect(page.getByText('Sign in again to see it here')).toHaveCount(0);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  expect(stored).not.toMatch(/session-token/);
});

test('a stale download link opens the app’s own page, signed in or not (11)', async ({
  page,
  api,
}) => {
  const user = await api.register();
  const file = await api.upload(user.token, { name: 'gone.txt', content: 'bye' });
  await api.gql('mutation($id: ID!) { deleteFile(id: $id) }', { id: file.id }, user.token);
  await signIn(page, user);
  await page.goto(`/files/${file.id}/download`);
  await expect(page).toHaveURL(/\/file-unavailable\?status=404$/);
  const view = page.getByTestId('file-unavailable');
  await expect(view.getByRole('heading', { name: 'This file is not available' })).toBeVisible();
  await expect(view.getByTestId('error-status')).toHaveText(/^404 · Not found$/i);
  await view.getByRole('link', { name: 'Go to the workspace' }).click();
  await expect(page).toHaveURL(/\/workspace/);

  await page.context().clearCookies();
  await page.goto(`/files/${file.id}/download`);
  await expect(page).toHaveURL(/\/file-unavailable\?status=401$/);
  await expect(page.getByRole('heading', { name: 'Sign in to download' })).toBeVisible();
  await expect(page.getByTestId('error-status')).toHaveText(/^401 · Unauthorized$/i);
});

test('a fresh install leads its first visitor to create the admin account (13)', async ({
  page,
  freshServer,
}) => {
  await page.goto(`${freshServer.url}/`);
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByRole('heading', { name: 'Set up your library' })).toBeVisible();
  await expect(page.getByTestId('first-account-notice')).toContainText('becomes its admin');
  await expect(page.getByText('Welcome back')).toHaveCount(0);
  await screenshot(page, 'h-web2-first-account');
  await page.getByLabel('Name').fill('First Admin');
  await page.getByLabel('Email').fill(uniqueEmail('first'));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/workspace$/);
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }),
  ).toBeVisible();

  // Once someone exists, sign-in is sign-in again.
  await page.context().clearCookies();
  await page.goto(`${freshServer.url}/login`);
  await expect(page.getByRole('heading', { name: 'Welcome back' })).toBeVisible();
});

test('a slow connection shows the app shell with loading rows at once (14)', async ({
  page,
  api,
}) => {
  const user = await api.register();
  await signIn(page, user);
  // Hold every API answer until the shell has been seen: the page's data is "on its way".
  const release = await holdRequests(page, '**/graphql');
  await page.goto('/workspace', { waitUntil: 'domcontentloaded' });
  const shell = page.getByTestId('boot-shell');
  await expect(shell).toBeVisible();
  await expect(shell).toContainText('Cabinet');
  expect(await shell.locator('.boot-row').count()).toBeGreaterThan(3);
  await screenshot(page, 'h-web2-boot-shell');
  release();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(shell).toBeHidden();
});

test('the statistics view lives in the address bar and survives a reload', async ({
  page,
  cabinet,
}) => {
  await signIn(page, cabinet.admin);
  await page.goto('/admin/stats');
  await page.getByRole('group', { name: 'Range' }).getByRole('button', { name: '7 days' }).click();
  await page.getByTestId('interval-HOUR').click();
  await expect(page).toHaveURL(/[?&]range=7d&interval=HOUR$/);
  await page.reload();
  await expect(page.getByTestId('interval-HOUR')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('stats-chart')).toHaveAttribute('aria-label', /per hour/);
  // A range too long for hours falls back to days.
  await page
    .getByRole('group', { name: 'Range' })
    .getByRole('button', { name: '12 months' })
    .click();
  await expect(page.getByTestId('interval-HOUR')).toBeDisabled();
  await expect(page).toHaveURL(/[?&]range=12m$/);
});
