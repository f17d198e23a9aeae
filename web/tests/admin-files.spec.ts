import { expect, signIn, test } from './fixtures';

// Files admin, end to end: add a file as Hidden with an edited name and extra tags, check a USER
// cannot see it, make it Active, the USER sees it and downloads it, and the admin finds that
// download in the file's history, in the files table and on the statistics page.

const FIND = `query ($q: String) { files(query: $q) { totalCount edges { node { id name } } } }`;

test('add a hidden file, publish it, and follow its download', async ({
  page,
  browser,
  api,
  cabinet,
}) => {
  const run = Date.now().toString(36);
  const name = `Launch plan ${run}.txt`;
  const user = await api.register({ name: 'Uma User' });
  const visible = async () => {
    const res = await api.gql<{ files: { totalCount: number } }>(FIND, { q: run }, user.token);
    return res.data!.files.totalCount;
  };

  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await page.getByTestId('add-files').click();
  const dialog = page.getByTestId('add-files-dialog');
  await page.getByTestId('add-files-input').setInputFiles({
    name: 'draft.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(`the plan ${run}`),
  });
  // The name comes from the file and can be edited; the guessed type tag is there.
  const nameInput = dialog.getByTestId('add-file-name');
  await expect(nameInput).toHaveValue('draft.txt');
  await nameInput.fill(name);
  await expect(dialog.getByRole('button', { name: 'Remove tag Other' })).toBeVisible();
  await dialog.getByLabel('Tags for every file', { exact: true }).fill(`Alpha ${run}, Beta ${run}`);
  await dialog.locator('label').filter({ hasText: 'Hidden' }).click();
  await dialog.getByTestId('add-files-submit').click();
  await expect(dialog).toBeHidden();

  // The table narrows to the new file: hidden, with its tags.
  await page.getByLabel('Search files').fill(run);
  const rows = page.getByTestId('files-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(name);
  await expect(rows.first()).toContainText(`Alpha ${run}`);
  await expect(rows.first()).toContainText(`Beta ${run}`);
  await expect(rows.first()).toContainText('Other');
  await expect(rows.first().getByTestId('status-badge')).toHaveText('Hidden');

  // A USER cannot see it: not in search, not through the page either.
  expect(await visible()).toBe(0);
  const theirs = await browser.newContext({ baseURL: cabinet.url });
  const userPage = await theirs.newPage();
  await signIn(userPage, user);
  const found = await api.gql<{ files: { edges: { node: { id: string } }[] } }>(
    FIND,
    { q: run },
    cabinet.admin.token,
  );
  const id = found.data!.files.edges[0]!.node.id;
  expect((await userPage.request.get(`/files/${id}/download`)).status()).toBe(404);

  // Publish it through the edit dialog.
  await page.getByRole('button', { name: `Actions for ${name}` }).click();
  await page.getByRole('menuitem', { name: 'Edit…' }).click();
  const edit = page.getByTestId('edit-file-dialog');
  await expect(edit.getByLabel('Name')).toHaveValue(name);
  await edit.locator('label').filter({ hasText: 'Active' }).click();
  await edit.getByTestId('edit-file-save').click();
  await expect(edit).toBeHidden();
  await expect(rows.first().getByTestId('status-badge')).toHaveText('Active');

  // The USER sees it now, and downloads it.
  expect(await visible()).toBe(1);
  await userPage.goto('/workspace');
  await expect(userPage.getByText(name).first()).toBeVisible();
  const download = await userPage.request.get(`/files/${id}/download`);
  expect(download.status()).toBe(200);
  expect(await download.text()).toBe(`the plan ${run}`);
  await theirs.close();

  // The count in the table, and the row in the file's history.
  await page.reload();
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('download-count')).toHaveText('1');
  await rows.first().getByTestId('download-count').click();
  const history = page.getByTestId('file-history');
  await expect(history.getByTestId('history-total')).toHaveText('1');
  await expect(history.getByTestId('history-row')).toHaveCount(1);
  await expect(history.getByTestId('history-row')).toContainText('Uma User');
  await expect(history.getByTestId('history-row')).toContainText(name);
  await page.keyboard.press('Escape');

  // The statistics, filtered to this file, count the download.
  await page.goto(`/admin/stats?file=${id}`);
  await expect(page.getByTestId('pick-file')).toHaveValue(name);
  await expect(page.getByTestId('stats-total')).toHaveText('1');
  await expect(page.getByTestId('stats-unique')).toHaveText('1');
  await expect(page.getByTestId('stats-chart')).toHaveAttribute('aria-label', /1 in total/);
  await expect(page.getByTestId('top-files')).toContainText(name);
  await expect(page.getByTestId('top-users')).toContainText('Uma User');
  // The same count per hour over the last day.
  await page.getByRole('button', { name: '24 hours' }).click();
  await expect(page.getByTestId('interval-HOUR')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('stats-chart')).toHaveAttribute('aria-label', /per hour/);
  await expect(page.getByTestId('stats-total')).toHaveText('1');
  await page.getByText('Show the numbers as a table').click();
  await expect(page.locator('details table td.end').filter({ hasText: /^1$/ })).toHaveCount(1);
});

test('statistics: the chart and the other lists do not wait for a slow top list', async ({
  page,
  api,
  cabinet,
}) => {
  const run = Date.now().toString(36);
  const user = await api.register({ name: `Slow Lister ${run}` });
  const file = await api.upload(user.token, { name: `counted-${run}.txt`, content: 'c' });
  const got = await page.request.get(`${cabinet.url}/files/${file.id}/download`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  expect(got.status()).toBe(200);

  // Hold every request that would count the top users: on a large tag that list takes seconds.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/graphql', async (route) => {
    const body = route.request().postData() ?? '';
    if (body.includes('topUsers') && !body.includes('"users":false')) await held;
    await route.continue();
  });
  await signIn(page, cabinet.admin);
  await page.goto(`/admin/stats?file=${file.id}`);
  await expect(page.getByTestId('stats-total')).toHaveText('1');
  await expect(page.getByTestId('stats-chart')).toHaveAttribute('aria-label', /1 in total/);
  await expect(page.getByTestId('top-files')).toContainText(`counted-${run}.txt`);
  const users = page.getByTestId('top-users');
  await expect(users).toHaveAttribute('aria-busy', 'true');
  await expect(users.locator('li.loading')).toHaveCount(4);

  release();
  await expect(users).toContainText(`Slow Lister ${run}`);
  await expect(users).toHaveAttribute('aria-busy', 'false');
});

test('files dropped anywhere on the open Add files dialog join its list', async ({
  page,
  cabinet,
}) => {
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await page.getByTestId('add-files').click();
  await page.getByTestId('add-files-input').setInputFiles([
    { name: 'Site photos.png', mimeType: 'image/png', buffer: Buffer.from('not really a PNG') },
    { name: 'Interview.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('ID3') },
  ]);
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
});
