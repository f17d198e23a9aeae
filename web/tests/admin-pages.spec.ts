import type { Page } from '@playwright/test';
import path from 'node:path';
import {
  expect,
  screenshot,
  SCREENSHOT_DIR,
  signIn,
  test,
  type Api,
  type TestUser,
} from './fixtures';

/** A viewport-sized shot (dialogs), next to the full-page ones. */
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });

// Every admin page on a small, realistic library of its own, in both themes and at phone width,
// with the main dialogs open. Screenshots land in artifacts/screenshots/admin-*.png.
test.use({ ownServer: true });

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const TAG = 'mutation ($name: String!) { createTag(name: $name) { id } }';
const HIDE = 'mutation ($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }';
const BAN = 'mutation ($id: ID!) { banUser(id: $id) { id } }';

async function seed(api: Api, base: string, admin: TestUser) {
  const people = await Promise.all(
    ['Maya Chen', 'Sam Okafor', 'Lena Fischer', 'Tom Becker', 'Ines Duarte'].map((name) =>
      api.register({ name }),
    ),
  );
  const [maya, sam, lena, tom, ines] = people as [TestUser, TestUser, TestUser, TestUser, TestUser];
  for (const name of ['Contracts', 'Archive 2024']) await api.gql(TAG, { name }, admin.token);
  const files = [
    {
      by: sam,
      name: 'Brand guidelines 2026.pdf',
      content: '%PDF-1.4 guide',
      tags: ['Design', 'Brand'],
    },
    { by: maya, name: 'Q3 revenue.csv', content: 'month,revenue\n', tags: ['Finance', 'Q3'] },
    { by: sam, name: 'team-offsite.png', content: PNG, tags: ['Image', 'Photos', 'Events'] },
    { by: lena, name: 'Onboarding checklist.md', content: '# Welcome', tags: ['HR'] },
    {
      by: admin,
      name: 'logo-final.svg',
      content: '<svg xmlns="http://www.w3.org/2000/svg"/>',
      tags: ['Design', 'Brand', 'Image'],
    },
    {
      by: maya,
      name: 'Board deck Q3.pdf',
      content: '%PDF-1.4 deck',
      tags: ['Finance', 'Q3', 'Board'],
    },
    { by: admin, name: 'Salary bands 2027.xlsx', content: 'PK bands', tags: ['HR', 'Finance'] },
  ];
  const ids: string[] = [];
  for (const f of files) {
    ids.push((await api.upload(f.by.token, { name: f.name, content: f.content, tags: f.tags })).id);
  }
  const downloads: [TestUser, number, number][] = [
    [maya, 0, 3],
    [sam, 0, 2],
    [lena, 2, 4],
    [tom, 2, 1],
    [maya, 3, 2],
    [ines, 1, 1],
    [sam, 4, 3],
    [tom, 5, 2],
    [admin, 6, 1],
  ];
  for (const [who, index, times] of downloads) {
    for (let i = 0; i < times; i++) {
      const response = await fetch(`${base}/files/${ids[index]}/download`, {
        headers: { authorization: `Bearer ${who.token}` },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
  }
  await api.gql(HIDE, { id: ids[6] }, admin.token);
  await api.gql(BAN, { id: tom.id }, admin.token);
  return { ids };
}

async function setTheme(page: Page, theme: 'light' | 'dark') {
  await page.evaluate((t) => localStorage.setItem('cabinet-theme', t), theme);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

async function noHorizontalScroll(page: Page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `horizontal overflow on ${page.url()}`).toBeLessThanOrEqual(0);
}

test('every admin page, in both themes and at phone width', async ({ page, api, cabinet }) => {
  test.setTimeout(300_000);
  await seed(api, cabinet.url, cabinet.admin);
  await signIn(page, cabinet.admin);

  const pages = [
    { path: '/admin/users', name: 'users', ready: page.getByTestId('users-row').first() },
    { path: '/admin/tags', name: 'tags', ready: page.getByTestId('tags-row').first() },
    { path: '/admin/files', name: 'files', ready: page.getByTestId('files-row').first() },
    { path: '/admin/stats', name: 'stats', ready: page.getByTestId('stats-chart') },
  ];

  await page.goto('/admin');
  await expect(page).toHaveURL(/\/admin\/users/);
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    for (const p of pages) {
      await page.goto(p.path);
      await expect(p.ready).toBeVisible();
      await screenshot(page, `admin-${p.name}`);
    }

    // The dialogs and the side panel.
    await page.goto('/admin/files');
    await page.getByTestId('add-files').click();
    await page.getByTestId('add-files-input').setInputFiles([
      { name: 'Site photos.png', mimeType: 'image/png', buffer: PNG },
      { name: 'Interview.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('ID3') },
    ]);
    // A file dropped anywhere while the dialog is open joins the list.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['notes'], 'Dropped notes.txt', { type: 'text/plain' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        document
          .querySelector('[data-testid="add-files-dialog"]')!
          .dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
          );
      }
    });
    await expect(page.getByTestId('add-file-item')).toHaveCount(3);
    await expect(page.getByTestId('add-file-name').nth(2)).toHaveValue('Dropped notes.txt');
    await expect(page.getByTestId('add-files-submit')).toHaveText(/Add 3 files/);
    await page.getByLabel('Tags for every file', { exact: true }).fill('Press kit, ');
    await page
      .getByTestId('add-files-dialog')
      .locator('label')
      .filter({ hasText: 'Hidden' })
      .click();
    await shot(page, `admin-files-add-${theme}`);
    await page.keyboard.press('Escape');
    await page
      .getByTestId('files-row')
      .filter({ hasText: 'team-offsite.png' })
      .getByTestId('download-count')
      .click();
    await expect(page.getByTestId('history-row').first()).toBeVisible();
    await shot(page, `admin-files-history-${theme}`);
    await page.keyboard.press('Escape');

    // An empty search result.
    await page.goto('/admin/users?q=nobody-by-this-name');
    await expect(page.getByTestId('empty-state')).toContainText('No users match');
    await screenshot(page, 'admin-users-empty');

    await page.goto('/admin/users');
    await page
      .getByTestId('users-row')
      .filter({ hasText: 'Lena Fischer' })
      .getByTestId('user-actions')
      .click();
    await page.getByRole('menuitem', { name: /Ban/ }).click();
    await expect(page.getByTestId('confirm-dialog')).toBeVisible();
    await shot(page, `admin-users-ban-${theme}`);
    await page.keyboard.press('Escape');
  }

  await page.setViewportSize({ width: 390, height: 844 });
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    for (const p of pages) {
      await page.goto(p.path);
      await expect(p.ready).toBeVisible();
      await noHorizontalScroll(page);
      await screenshot(page, `admin-phone-${p.name}`);
    }
  }
});
