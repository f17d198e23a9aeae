import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, test } from './fixtures';

// Each test here gets a server of its own: counts and empty states are then exact.
test.use({ ownServer: true });

/** Drops files onto the page as a user dragging them from the desktop would. */
async function dropFiles(page: Page, files: { name: string; type: string; size: number }[]) {
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const text = `${f.name}\n`.padEnd(f.size, 'x');
      transfer.items.add(new File([text], f.name, { type: f.type }));
    }
    return transfer;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await page.dispatchEvent('main', type, { dataTransfer });
  }
}

const rows = (page: Page) => page.getByTestId('file-row');
const row = (page: Page, name: string) => rows(page).filter({ hasText: name });
const tagOption = (page: Page, name: string) =>
  page.getByTestId('tag-panel').locator(`[data-tag="${name}"]`);

test('upload by drag and drop, filter, search, download, rename and delete', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Uma Uploader' });
  const other = await api.register({ name: 'Olga Other' });
  await api.upload(other.token, {
    name: 'design-spec.txt',
    content: 'the spec',
    tags: ['design', 'q3'],
  });
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(rows(page)).toHaveCount(1);
  // Someone else's file: download only.
  const theirs = row(page, 'design-spec.txt');
  await expect(theirs.getByRole('link', { name: 'Download design-spec.txt' })).toBeVisible();
  await expect(theirs.getByRole('button', { name: /Edit|Delete/ })).toHaveCount(0);
  await expect(theirs).toContainText('Olga Other');

  // Slow the upload link right down so progress is visible on the way to 100 %, however busy the
  // machine (at 1.5 MB/s a loaded CI machine once reached "saving" before the check looked); it
  // is opened again as soon as the progress was seen.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 100_000,
  });

  await dropFiles(page, [
    { name: 'report-2025.txt', type: 'text/plain', size: 1_500_000 },
    { name: 'budget.csv', type: 'text/csv', size: 1_200_000 },
  ]);
  const dialog = page.getByTestId('upload-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('2 files');
  // A comma makes a chip; tag suggestions come from existing tags.
  await dialog.getByLabel('Tags').fill('finance, q');
  await expect(dialog.getByRole('button', { name: 'Remove tag finance' })).toBeVisible();
  await dialog.getByRole('option', { name: /q3/ }).click();
  await expect(dialog.getByRole('button', { name: 'Remove tag q3' })).toBeVisible();
  await expect(dialog.getByLabel('Tags')).toHaveValue('');
  await dialog.getByRole('button', { name: 'Upload 2 files' }).click();
  await expect(dialog).toBeHidden();

  const tray = page.getByTestId('upload-tray');
  const report = tray.getByTestId('upload-item').filter({ hasText: 'report-2025.txt' });
  // Bytes and speed while it runs, then 100 %.
  await expect(report.getByTestId('upload-status')).toContainText(/B of 1\.5 MB · [\d.]+ [KM]B\/s/);
  await screenshot(page, 'upload-progress');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  // Both arrived: the tray folds away and a toast says so.
  await expect(tray).toBeHidden({ timeout: 45_000 });
  await expect(page.getByTestId('toasts')).toContainText('2 files uploaded');
  // The list refreshed by itself.
  await expect(rows(page)).toHaveCount(3);
  await expect(row(page, 'report-2025.txt')).toContainText('finance');
  await expect(row(page, 'report-2025.txt')).toContainText('1.5 MB');
  await expect(row(page, 'report-2025.txt')).toContainText('You');
  await screenshot(page, 'workspace');

  // Tags: q3 is on all three, finance on two, design on one.
  await expect(tagOption(page, 'q3').getByTestId('tag-count')).toHaveText('3');
  await expect(tagOption(page, 'finance').getByTestId('tag-count')).toHaveText('2');
  await tagOption(page, 'finance').click();
  await tagOption(page, 'design').click();
  await expect(page).toHaveURL(/tags=\d+(,|%2C)\d+/);
  await expect(page.getByTestId('empty-results')).toBeVisible(); // ALL: no file has both
  await expect(tagOption(page, 'q3').getByTestId('tag-count')).toHaveText('0');
  await page.getByRole('group', { name: 'Files must carry' }).getByText('Any tag').click();
  await expect(page).toHaveURL(/match=ANY/);
  await expect(rows(page)).toHaveCount(3);
  await expect(tagOption(page, 'q3').getByTestId('tag-count')).toHaveText('3');
  await tagOption(page, 'design').click();
  await expect(rows(page)).toHaveCount(2);
  await expect(page.getByTestId('result-summary')).toContainText('2 files');
  await page.getByTestId('tag-panel').getByRole('button', { name: 'Clear' }).click();
  await expect(page).toHaveURL(/\/workspace\?match=ANY$/);

  // Search narrows, lives in the URL, and the back button restores the list.
  const search = page.getByLabel('Search files and tags');
  await page.keyboard.press('/');
  await expect(search).toBeFocused();
  await search.fill('report');
  await expect(page).toHaveURL(/q=report/);
  await expect(rows(page)).toHaveCount(1);
  await search.fill('q3');
  await expect(page).toHaveURL(/q=q3/); // matches tag names too
  await expect(rows(page)).toHaveCount(3);
  await page.goBack();
  await expect(page).toHaveURL(/q=report/);
  await expect(search).toHaveValue('report');
  await expect(rows(page)).toHaveCount(1);
  await page.goBack();
  await expect(page).not.toHaveURL(/q=/);
  await expect(search).toHaveValue('');
  await expect(rows(page)).toHaveCount(3);

  // Download: the bytes arrive, the count moves, My downloads lists it.
  const downloadPromise = page.waitForEvent('download');
  await row(page, 'budget.csv').getByRole('link', { name: 'Download budget.csv' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('budget.csv');
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile((await download.path())!);
  expect(bytes.length).toBe(1_200_000);
  expect(bytes.subarray(0, 11).toString()).toBe('budget.csv\n');
  await expect(row(page, 'budget.csv').getByTestId('file-downloads')).toHaveText('1');

  // Rename and retag my own file.
  await row(page, 'report-2025.txt').getByRole('button', { name: 'Edit report-2025.txt' }).click();
  const edit = page.getByTestId('edit-file-dialog');
  await expect(edit.getByLabel('Name')).toHaveValue('report-2025.txt');
  // The same tag input as everywhere: the file's tags are chips.
  await expect(edit.getByRole('listitem')).toHaveText(['finance', 'q3']);
  await edit.getByLabel('Name').fill('annual-report.txt');
  await edit.getByRole('button', { name: 'Remove tag q3' }).click();
  await edit.getByLabel('Tags').fill('annual');
  await screenshot(page, 'workspace-edit');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(edit).toBeHidden();
  await expect(row(page, 'annual-report.txt')).toContainText('annual');
  await expect(row(page, 'annual-report.txt')).not.toContainText('q3');

  // Delete it, after confirming.
  await row(page, 'annual-report.txt')
    .getByRole('button', { name: 'Delete annual-report.txt' })
    .click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText('annual-report.txt');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(rows(page)).toHaveCount(3);
  await row(page, 'annual-report.txt')
    .getByRole('button', { name: 'Delete annual-report.txt' })
    .click();
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await expect(rows(page)).toHaveCount(2);
  await expect(row(page, 'annual-report.txt')).toHaveCount(0);

  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'My downloads' })
    .click();
  await expect(page.getByTestId('download-row')).toHaveCount(1);
  await expect(page.getByTestId('download-name')).toHaveText('budget.csv');
  await screenshot(page, 'history');
});

test('pagination, page size and sort live in the URL', async ({ page, api }) => {
  const me = await api.register();
  for (let i = 1; i <= 23; i++) {
    const n = String(i).padStart(2, '0');
    await api.upload(me.token, { name: `file-${n}.txt`, content: 'x'.repeat(i * 10) });
  }
  await signIn(page, me);
  await page.goto('/workspace?size=10&sort=name:asc');
  await expect(rows(page)).toHaveCount(10);
  await expect(rows(page).first()).toHaveAttribute('data-file-name', 'file-01.txt');
  const pagination = page.getByTestId('pagination');
  await expect(pagination).toContainText('1–10 of 23 files');
  await pagination.getByRole('button', { name: 'Page 3' }).click();
  await expect(page).toHaveURL(/page=3/);
  await expect(rows(page)).toHaveCount(3);
  await expect(rows(page).first()).toHaveAttribute('data-file-name', 'file-21.txt');
  await expect(pagination.getByRole('button', { name: 'Page 3' })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await pagination.getByRole('button', { name: 'Previous page' }).click();
  await expect(rows(page).first()).toHaveAttribute('data-file-name', 'file-11.txt');
  await page.goBack();
  await expect(rows(page)).toHaveCount(3);

  await page.getByLabel('Sort', { exact: true }).selectOption({ label: 'Largest first' });
  await expect(page).not.toHaveURL(/page=/);
  await expect(rows(page).first()).toHaveAttribute('data-file-name', 'file-23.txt');
  // The one table: its column headers sort the workspace too, into the same URL.
  await page.getByRole('columnheader', { name: 'Name' }).getByRole('button').click();
  await expect(page).toHaveURL(/sort=name(%3A|:)asc/);
  await expect(rows(page).first()).toHaveAttribute('data-file-name', 'file-01.txt');
  await expect(page.getByLabel('Sort', { exact: true })).toHaveValue('name:asc');
  await pagination.getByLabel('Per page').selectOption('50');
  await expect(rows(page)).toHaveCount(23);
  await expect(page).toHaveURL(/size=50/);
  await expect(pagination.getByRole('navigation')).toHaveCount(0);
});

test('an empty library invites the first upload; the upload button picks files', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(page.getByTestId('empty-library')).toBeVisible();
  await screenshot(page, 'workspace-empty');
  await page.getByTestId('upload-button').click();
  const dialog = page.getByTestId('upload-dialog');
  await page
    .getByTestId('upload-input')
    .setInputFiles([
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes') },
    ]);
  await expect(dialog).toContainText('notes.md');
  await screenshot(page, 'upload-dialog');
  // Escape closes the dialog; the staged file stays for next time.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('upload-button')).toBeFocused();
  await page.getByTestId('upload-button').click();
  await dialog.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(rows(page)).toHaveCount(1);
  // No tags given: the server adds the type tag.
  await expect(row(page, 'notes.md')).toContainText('Other');
});

test.describe('size limit', () => {
  test.use({ serverEnv: { MAX_UPLOAD_BYTES: '100000' } });

  test('uploads fail one by one: too large, cancelled, connection lost', async ({
    page,
    api,
    cabinet,
  }) => {
    const me = await api.register();
    await signIn(page, me);
    await page.goto('/workspace');
    await dropFiles(page, [
      { name: 'small.txt', type: 'text/plain', size: 2_000 },
      { name: 'huge.bin', type: 'application/octet-stream', size: 400_000 },
    ]);
    await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload 2 files' }).click();
    const tray = page.getByTestId('upload-tray');
    const huge = tray.getByTestId('upload-item').filter({ hasText: 'huge.bin' });
    await expect(huge).toHaveAttribute('data-status', 'error');
    await expect(huge.getByTestId('upload-status')).toContainText('larger than the server accepts');
    await expect(rows(page)).toHaveCount(1);
    await expect(page.getByTestId('toasts')).toContainText('1 upload failed');

    // A slow upload can be cancelled; nothing arrives.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 20_000,
    });
    await dropFiles(page, [{ name: 'slow.txt', type: 'text/plain', size: 90_000 }]);
    await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload' }).click();
    const slow = tray.getByTestId('upload-item').filter({ hasText: 'slow.txt' });
    await expect(slow).toHaveAttribute('data-status', 'uploading');
    await slow.getByRole('button', { name: 'Cancel upload of slow.txt' }).click();
    await expect(slow).toHaveAttribute('data-status', 'cancelled');
    await expect(slow.getByRole('button', { name: 'Retry upload of slow.txt' })).toBeVisible();

    await expect(rows(page)).toHaveCount(1);

    // Retry, then the server goes away mid-way: a clear error for that file.
    await slow.getByRole('button', { name: 'Retry upload of slow.txt' }).click();
    await expect(slow).toHaveAttribute('data-status', 'uploading');
    await cabinet.stop();
    await expect(slow).toHaveAttribute('data-status', 'error');
    await expect(slow.getByTestId('upload-status')).toContainText('connection was lost');
  });
});

test('an upload finishing while the list is still loading shows up once that answer lands', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await signIn(page, me);
  // The page's first answer (no files yet) is held back until the upload has finished: a slow
  // read that began before the upload's commit. The refetch the upload asks for must still
  // happen, after that answer.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  await page.route('**/graphql', async (route) => {
    if (first && (route.request().postData() ?? '').includes('WorkspaceFiles')) {
      first = false;
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
      return;
    }
    await route.continue();
  });
  await page.goto('/workspace');
  await dropFiles(page, [{ name: 'fresh.txt', type: 'text/plain', size: 100 }]);
  await page
    .getByTestId('upload-dialog')
    .getByRole('button', { name: 'Upload', exact: true })
    .click();
  // The tray folds away once every upload is done: the refetch has been asked for by then.
  await expect(page.getByTestId('upload-item')).toHaveCount(0);
  release();
  await expect(row(page, 'fresh.txt')).toBeVisible();
  await expect(rows(page)).toHaveCount(1);
});
