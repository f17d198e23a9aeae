import type { Locator, Page } from '@playwright/test';
import { expect, signIn, test, type Api, type TestUser } from './fixtures';

// Defects a new user met (issue 12), one test each. Each test has a server of its own.
test.use({ ownServer: true });

const rows = (page: Page) => page.getByTestId('file-row');

/** Downloads `fileId` as `user` through the download route (as a browser would). */
async function download(api: Api, user: TestUser, fileId: string) {
  const response = await fetch(`${api.url}/files/${fileId}/download`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
}

/** How far `inner` pokes out of `outer` on the right, in px (0 or less: it fits). */
async function overflowRight(outer: Locator, inner: Locator): Promise<number> {
  const a = (await outer.boundingBox())!;
  const b = (await inner.boundingBox())!;
  return b.x + b.width - (a.x + a.width);
}

test('1, 12: My downloads fits its box at 1280–1920 px; a hidden file is "No longer available"', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register();
  const kept = await api.upload(me.token, { name: 'quarterly-figures.csv', content: 'a,b' });
  const gone = await api.upload(me.token, { name: 'secret-plan.txt', content: 'shh' });
  await download(api, me, kept.id);
  await download(api, me, gone.id);
  const hidden = await api.gql(
    `mutation ($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
    { id: gone.id },
    cabinet.admin.token,
  );
  expect(hidden.errors).toBeUndefined();
  await signIn(page, me);
  for (const width of [1280, 1440, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/history');
    const wrap = page.getByTestId('download-table').locator('.scroll');
    const button = page.getByRole('link', { name: 'Download quarterly-figures.csv again' });
    await expect(button).toBeVisible();
    expect(await overflowRight(wrap, button), `button inside the box at ${width} px`).toBeLessThan(
      0,
    );
    const widths = await wrap.evaluate((el) => [el.scrollWidth, el.clientWidth]);
    expect(widths[0], `table as wide as its box at ${width} px`).toBeLessThanOrEqual(widths[1]!);
  }
  const row = page.getByTestId('download-row').filter({ hasText: 'secret-plan.txt' });
  await expect(row).toContainText('No longer available');
  await expect(row).not.toContainText(/deleted|hidden/i);
});

test('3, 4: the tray shows the file size, full bars, folds away after success, says when an item was cancelled', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('upload-button').click();
  await page.getByTestId('upload-input').setInputFiles([
    { name: 'pixel.png', mimeType: 'image/png', buffer: Buffer.alloc(205, 1) },
    { name: 'tiny.txt', mimeType: 'text/plain', buffer: Buffer.from('tiny') },
  ]);
  // Hold the second upload's creation so the finished item can be looked at before the tray
  // folds (uploads go through /uploads, tus; the metadata names the file).
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const tinyName = Buffer.from('tiny.txt').toString('base64');
  await page.route('**/uploads', async (route) => {
    if (
      route.request().method() === 'POST' &&
      (route.request().headers()['upload-metadata'] ?? '').includes(tinyName)
    ) {
      await held;
    }
    await route.continue();
  });
  await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload 2 files' }).click();
  const tray = page.getByTestId('upload-tray');
  const pixel = tray.getByTestId('upload-item').filter({ hasText: 'pixel.png' });
  await expect(pixel).toHaveAttribute('data-status', 'done');
  await expect(pixel.getByTestId('upload-status')).toContainText('205 B');
  const bar = pixel.getByRole('progressbar');
  await expect
    .poll(() =>
      bar.evaluate((el) => {
        const fill = el.firstElementChild!.getBoundingClientRect().width;
        return Math.round(el.getBoundingClientRect().width - fill);
      }),
    )
    .toBe(0);
  release();
  // Everything succeeded: the tray folds away by itself, nothing left covering the table.
  await expect(rows(page)).toHaveCount(2);
  await expect(tray).toBeHidden();

  // A cancelled item: the heading does not claim the uploads are complete.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 20_000,
  });
  await page.getByTestId('upload-button').click();
  await page
    .getByTestId('upload-input')
    .setInputFiles([
      { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(400_000) },
    ]);
  await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload' }).click();
  const slow = tray.getByTestId('upload-item').filter({ hasText: 'slow.bin' });
  await expect(slow).toHaveAttribute('data-status', 'uploading');
  await slow.getByRole('button', { name: 'Cancel upload of slow.bin' }).click();
  await expect(slow).toHaveAttribute('data-status', 'cancelled');
  await expect(tray.getByRole('heading')).not.toHaveText('Uploads complete');
  await expect(tray.getByRole('heading')).toContainText('cancelled');
});

test('4: the tray never covers the last rows or "Per page"', async ({ page, api }) => {
  const me = await api.register();
  for (let i = 1; i <= 12; i++) await api.upload(me.token, { name: `f-${i}.txt`, content: 'x' });
  await signIn(page, me);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/workspace?size=10');
  await expect(rows(page)).toHaveCount(10);
  // A failed upload keeps the tray open: the connection drops at every attempt.
  await page.route('**/uploads', (route) => route.abort());
  await page.getByTestId('upload-button').click();
  await page
    .getByTestId('upload-input')
    .setInputFiles([{ name: 'broken.txt', mimeType: 'text/plain', buffer: Buffer.from('b') }]);
  await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload' }).click();
  const tray = page.getByTestId('upload-tray');
  await expect(tray.getByTestId('upload-item')).toHaveAttribute('data-status', 'error');
  const perPage = page.getByLabel('Per page');
  // Scrolled to the end, the last row and the page-size control are clear of the tray.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  for (const target of [perPage, rows(page).last()]) {
    const a = (await tray.boundingBox())!;
    const b = (await target.boundingBox())!;
    const overlaps =
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    expect(overlaps, 'tray overlaps the page').toBe(false);
  }
});

test('5: the tag panel tells an empty library from an empty search and a failed request', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'plan.txt', content: 'p', tags: ['planning'] });
  await signIn(page, me);
  await page.goto('/workspace?q=nothing-matches-this');
  const panel = page.getByTestId('tag-panel');
  await expect(page.getByTestId('empty-results')).toBeVisible();
  await expect(panel).not.toContainText('No tags yet');
  await expect(panel).toContainText('No tags match this search');

  await page.route('**/graphql', async (route) => {
    if (/WorkspaceFiles/.test(route.request().postData() ?? '')) await route.abort();
    else await route.continue();
  });
  await page.goto('/workspace?q=plan');
  await expect(panel).not.toContainText('No tags yet');
  await expect(panel).toContainText('could not be loaded');
});

test('9: while a search loads, the old total is not shown under the new query', async ({
  page,
  api,
}) => {
  const me = await api.register();
  for (let i = 1; i <= 3; i++)
    await api.upload(me.token, { name: `report-${i}.txt`, content: 'r' });
  await api.upload(me.token, { name: 'project.txt', content: 'p' });
  await signIn(page, me);
  await page.goto('/workspace');
  const summary = page.getByTestId('result-summary');
  await expect(summary).toContainText('4 files');
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let seen: () => void = () => {};
  const asked = new Promise<void>((resolve) => (seen = resolve));
  await page.route('**/graphql', async (route) => {
    if (/"query":"project"/.test(route.request().postData() ?? '')) {
      seen();
      await held;
    }
    await route.continue();
  });
  await page.getByLabel('Search files and tags').fill('project');
  await asked;
  await expect(page).toHaveURL(/q=project/);
  await expect(page.getByTestId('results-loading')).toBeVisible();
  await expect(page.getByText(/4 files\s+matching “project”/)).toHaveCount(0);
  release();
  await expect(summary).toContainText('1 file matching “project”');
});

test('15: names get the room, tags sit under the name, the full name on hover and to readers', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Maximiliana Featherstonehaugh' });
  const name = 'Salary bands 2026 engineering.xlsx';
  await api.upload(me.token, { name, content: 's', tags: ['finance', 'hr', 'confidential'] });
  await signIn(page, me);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto('/workspace');
  const row = rows(page).first();
  const cell = row.getByTestId('file-name');
  await expect(cell).toHaveText(name);
  expect(await cell.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await expect(cell).toHaveAttribute('title', name);
  // Tags under the name, in the same cell.
  await expect(row.locator('[data-column="name"]')).toContainText('confidential');
  await expect(page.getByRole('columnheader', { name: 'Tags' })).toHaveCount(0);
});

test('an existing name is pointed out in the upload dialog: keep both or skip it', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'minutes.txt', content: 'old' });
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(rows(page)).toHaveCount(1);
  await page.getByTestId('upload-button').click();
  const dialog = page.getByTestId('upload-dialog');
  await page.getByTestId('upload-input').setInputFiles([
    { name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from('new') },
    { name: 'agenda.txt', mimeType: 'text/plain', buffer: Buffer.from('a') },
  ]);
  const notice = dialog.getByTestId('duplicate-notice');
  await expect(notice).toContainText('minutes.txt');
  await expect(notice).toContainText('already');
  await notice.getByRole('button', { name: 'Skip it' }).click();
  await expect(dialog).not.toContainText('minutes.txt');
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(rows(page)).toHaveCount(2);

  await page.getByTestId('upload-button').click();
  await page
    .getByTestId('upload-input')
    .setInputFiles([{ name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from('v2') }]);
  await dialog.getByTestId('duplicate-notice').getByRole('button', { name: 'Keep both' }).click();
  await expect(dialog.getByTestId('duplicate-notice')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(rows(page).filter({ hasText: 'minutes.txt' })).toHaveCount(2);
});

test('12: an uploader is told that an admin hid some of their files, and no more', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'kept-notes.txt', content: 'a' });
  const gone = await api.upload(me.token, { name: 'flagged-notes.txt', content: 'b' });
  const hidden = await api.gql(
    `mutation ($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
    { id: gone.id },
    cabinet.admin.token,
  );
  expect(hidden.errors).toBeUndefined();
  await signIn(page, me);
  await page.goto('/account');
  const note = page.getByTestId('account-hidden-uploads');
  await expect(note).toContainText('One of your uploads was hidden by an admin');
  await expect(note).not.toContainText('flagged-notes.txt');
  await expect(page.getByTestId('account-uploads')).toHaveText('1');
});
