import type { Page } from '@playwright/test';
import { expect, signIn, test } from './fixtures';

// A person with a keyboard and no mouse: every step below is a key press, and after each one
// the focus is where that person would look for it. Each test has a library of its own, so the
// rows it counts are its own.
test.use({ ownServer: true });

/** What has the keyboard's focus: its accessible name as a screen reader would start to read it. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return 'body';
    const label =
      el.getAttribute('aria-label') ||
      (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) ||
      el.textContent ||
      '';
    return `${el.tagName.toLowerCase()} ${label.replace(/\s+/g, ' ').trim()}`;
  });
}

/** Presses Tab until `name` has the focus, at most `limit` times. */
async function tabTo(page: Page, name: RegExp, limit = 40) {
  for (let i = 0; i < limit; i++) {
    if (name.test(await focused(page))) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${name}; last: ${await focused(page)}`);
}

test('a keyboard alone signs in, finds a file, opens it, edits it and comes back where it was', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Kim Keys' });
  await api.upload(me.token, { name: 'quarterly-plan.txt', content: 'plan', tags: ['plans'] });
  await api.upload(me.token, { name: 'budget.txt', content: 'money', tags: ['finance'] });

  await page.goto('/login');
  await expect(page.locator('input[type=email]')).toBeFocused();
  await page.keyboard.type(me.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(me.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/workspace/);
  await expect(page.getByTestId('file-row')).toHaveCount(2);

  // "/" goes to the search box from anywhere on the page.
  await page.keyboard.press('/');
  await expect(page.getByRole('searchbox')).toBeFocused();
  await page.keyboard.type('budget');
  await expect(page.getByTestId('file-row')).toHaveCount(1);

  // The file's name opens the viewer; Escape closes it and the focus is back on the name.
  await tabTo(page, /^button budget\.txt/);
  await page.keyboard.press('Enter');
  const viewer = page.getByTestId('file-viewer');
  await expect(viewer).toBeVisible();
  expect(await focused(page)).not.toBe('body');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  expect(await focused(page)).toMatch(/^button budget\.txt/);

  // The edit dialog takes the focus, keeps Tab inside itself, and gives the focus back.
  await tabTo(page, /^button Edit budget\.txt/);
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('edit-file-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Name')).toBeFocused();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(await focused(page)).toMatch(/^button Edit budget\.txt/);

  // Rename through the dialog by keyboard alone.
  await page.keyboard.press('Enter');
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('budget 2027.txt');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('file-row')).toContainText('budget 2027.txt');
  expect(await focused(page)).not.toBe('body');
});

test('menus open, move and close from the keyboard, and give the focus back', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register({ name: 'Menu Person' });
  await api.upload(me.token, { name: 'menu-file.txt', content: 'x' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await expect(page.getByTestId('files-row').first()).toBeVisible();

  await tabTo(page, /^button Actions for menu-file\.txt/, 80);
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu');
  await expect(menu).toBeVisible();
  const items = menu.getByRole('menuitem');
  await expect(items.first()).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(items.nth(1)).toBeFocused();
  await page.keyboard.press('End');
  await expect(items.last()).toBeFocused();
  await page.keyboard.press('Home');
  await expect(items.first()).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  expect(await focused(page)).toMatch(/^button Actions for menu-file\.txt/);

  // A destructive item asks first, and the question opens on its harmless answer.
  await page.keyboard.press('Enter');
  await expect(items.first()).toBeFocused();
  await page.keyboard.press('End');
  await expect(items.last()).toHaveText(/Delete/);
  await page.keyboard.press('Enter');
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toBeVisible();
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId('files-row').filter({ hasText: 'menu-file.txt' })).toBeVisible();
});

test('a keyboard alone uploads a file: the dialog, the file chooser, the upload', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Una Upload' });
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(page.getByTestId('upload-button')).toBeVisible();

  // Listening for the chooser turns on Playwright's interception of it, which takes a round
  // trip to the browser: started only right before the key press, it can come too late.
  const chooser = page.waitForEvent('filechooser');
  await tabTo(page, /^button Upload$/);
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('upload-dialog');
  await expect(dialog).toBeVisible();
  await expect.poll(() => dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await tabTo(page, /^button Choose files/);
  await page.keyboard.press('Enter');
  await (
    await chooser
  ).setFiles({ name: 'typed-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') });
  await expect(dialog.getByTestId('staged-name')).toHaveText(['typed-notes.txt']);
  // In the tags field Enter makes the typed word a chip; Enter on an empty field sends the form.
  await tabTo(page, /^input Tags/);
  await page.keyboard.type('typed');
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('button', { name: 'Remove tag typed' })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  const row = page.getByTestId('file-row').filter({ hasText: 'typed-notes.txt' });
  await expect(row).toContainText('typed-notes.txt');
  await expect(row.getByText('typed', { exact: true })).toBeVisible();
  expect(await focused(page)).not.toBe('body');
});
