import {
  expect,
  gqlOk,
  holdRequests,
  PASSWORD,
  screenshot,
  signIn,
  test,
  uniqueEmail,
} from './fixtures';

test('the first sign-up becomes admin, the next one a member', async ({ page, freshServer }) => {
  await page.goto(`${freshServer.url}/register`);
  await page.getByLabel('Name').fill('Grace Hopper');
  await page.getByLabel('Email').fill(uniqueEmail('grace'));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/workspace$/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Admin' })).toBeVisible();
  await expect(page.getByTestId('toasts')).toContainText('admin');

  // Sign out through the account menu, then create a second account.
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?reason=signedout/);
  await expect(page.getByTestId('login-notice')).toHaveText('You have been signed out.');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill('Linus');
  await page.getByLabel('Email').fill(uniqueEmail('linus'));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/workspace$/);
  await expect(nav.getByRole('link', { name: 'Workspace' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Admin' })).toHaveCount(0);
});

test('sign-up and sign-in errors appear next to their fields', async ({ page, api }) => {
  const taken = await api.register();
  await page.goto('/register');
  await screenshot(page, 'register');
  await page.getByLabel('Name').fill('Short Password');
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('email-error')).toHaveText('Email must be a valid email address');
  await expect(page.getByTestId('password-error')).toHaveText(
    'Password must be at least 8 characters',
  );
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('form-error')).toHaveCount(0);

  await page.getByLabel('Email').fill(taken.email.toUpperCase());
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('email-error')).toHaveText('Email is already registered');
  await expect(page.getByTestId('password-error')).toHaveCount(0);

  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Email').fill(taken.email);
  await page.getByLabel('Password', { exact: true }).fill('wrong password!');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('password-error')).toHaveText('Email or password is wrong');
  await screenshot(page, 'login-error');

  // Show/hide password.
  await page.getByRole('button', { name: 'Show password' }).click();
  await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('type', 'text');
  await page.getByRole('button', { name: 'Hide password' }).click();
  await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('type', 'password');
});

test('banned and rate-limited sign-ins get their own messages', async ({ page, api, cabinet }) => {
  const banned = await api.register({ name: 'Mallory' });
  await gqlOk(
    cabinet.url,
    'mutation ($id: ID!) { banUser(id: $id) { id } }',
    { id: banned.id },
    cabinet.admin.token,
  );
  await page.goto('/login');
  await page.getByLabel('Email').fill(banned.email);
  await page.getByLabel('Password', { exact: true }).fill(banned.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toContainText('This account has been banned');

  // Ten failed sign-ins for one email within 15 minutes lock it for a while (RATE_LIMITED).
  const target = await api.register();
  for (let i = 0; i < 10; i++) {
    await api.gql(
      'mutation ($e: String!) { login(email: $e, password: "nope nope nope") { token } }',
      {
        e: target.email,
      },
    );
  }
  await page.getByLabel('Email').fill(target.email);
  await page.getByLabel('Password', { exact: true }).fill(target.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toContainText('Too many attempts');
  await expect(page.getByRole('button', { name: /Try again in \d+:\d\d/ })).toBeDisabled();
});

test('a signed-out visit goes to sign-in with a message, then back', async ({ page, api }) => {
  const user = await api.register();
  await page.goto('/history?page=1');
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fhistory%3Fpage%3D1/);
  await expect(page.getByTestId('login-notice')).toHaveText('Please sign in to continue.');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/history\?page=1$/);
  await expect(page.getByRole('heading', { name: 'My downloads' })).toBeVisible();
});

test('a member on an admin page sees "Admins only"', async ({ page, api }) => {
  const user = await api.register();
  await signIn(page, user);
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
  await expect(page.getByTestId('error-status')).toHaveText(/^403 · Forbidden$/i);
  await expect(page.getByRole('link', { name: 'Go to the workspace' })).toBeVisible();
});

test('a change of the system theme while the app still loads is not missed', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const release = await holdRequests(page, '**/_app/immutable/**');
  await page.goto('/login', { waitUntil: 'commit' });
  const html = page.locator('html');
  // The inline script painted the system's theme; the app's own scripts have not run yet.
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  release();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(html).toHaveAttribute('data-theme', 'light');
});

test('the theme follows the system, switches, and is remembered without a flash', async ({
  page,
}) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/login');
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await screenshot(page, 'login');

  // The system turns light; the choice made here (dark) must win from now on.
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'light');
  await screenshot(page, 'login');
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');

  // Reload with the app's scripts and styles held back: the inline script and style of app.html
  // alone must already paint the remembered theme.
  const release = await holdRequests(page, '**/_app/immutable/**');
  await page.goto('/login', { waitUntil: 'commit' });
  await page.waitForFunction(() => document.body !== null);
  expect(await html.getAttribute('data-theme')).toBe('dark');
  const background = await page.evaluate(
    () => getComputedStyle(document.documentElement).backgroundColor,
  );
  expect(background).toBe('rgb(14, 16, 21)');
  release();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
});
