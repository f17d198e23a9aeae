import { readFile } from 'node:fs/promises';
import { expect, signIn, test } from './fixtures';

// Issue 16's bulk safety nets in the browser: the selection as one ZIP, bulk actions naming the
// files they could not change, requests of 1,000 with a progress bar for "all N matching", the
// trash page's selection with tags, Undo after a single delete in Admin → Files, and the AUDIT
// scope in the token form. A server of its own: counts hold exactly these files.
test.use({ ownServer: true });

const COUNTS = `query($id: ID!) { file(id: $id) { downloadCount } }`;
const TRASH = `{ trash(first: 100) { totalCount edges { node { name } } } }`;

test('the workspace downloads the selection as one ZIP, one download counted per file', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Zed Zipper' });
  const a = await api.upload(me.token, { name: 'alpha.txt', content: 'alpha bytes' });
  const b = await api.upload(me.token, { name: 'beta.txt', content: 'beta bytes' });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-select-page').check();
  await expect(page.getByTestId('bulk-bar-count')).toHaveText('2 selected');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('bulk-zip').click(),
  ]);
  expect(download.suggestedFilename()).toBe('files.zip');
  const bytes = await readFile((await download.path())!);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
  // Stored entries: both names and both contents are in the archive as they are.
  for (const text of ['alpha.txt', 'beta.txt', 'alpha bytes', 'beta bytes']) {
    expect(bytes.includes(Buffer.from(text))).toBe(true);
  }
  for (const id of [a.id, b.id]) {
    const res = await api.gql<{ file: { downloadCount: number } }>(COUNTS, { id }, me.token);
    expect(res.data!.file.downloadCount).toBe(1);
  }
});

test('a bulk delete names the file it could not move, moves the rest, and one Undo restores them', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register({ name: 'Fay Failing' });
  for (const name of ['one.txt', 'two.txt', 'gone.txt']) {
    await api.upload(me.token, { name, content: name });
  }
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-select-page').check();
  await expect(page.getByTestId('bulk-bar-count')).toHaveText('3 selected');
  // Meanwhile an admin hides one of them: it no longer exists for her.
  const list = await api.gql<{ files: { edges: { node: { id: string; name: string } }[] } }>(
    `{ files(first: 10) { edges { node { id name } } } }`,
    {},
    me.token,
  );
  const gone = list.data!.files.edges.find((e) => e.node.name === 'gone.txt')!.node.id;
  const hidden = await api.gql(
    `mutation($ids: [ID!]!) { setFilesStatus(ids: $ids, status: HIDDEN) { id } }`,
    { ids: [gone] },
    cabinet.admin.token,
  );
  expect(hidden.errors).toBeUndefined();

  await page.getByTestId('bulk-trash').click();
  await page.getByRole('button', { name: 'Move to trash' }).click();
  const failed = page.getByTestId('bulk-failures');
  await expect(failed).toContainText('1 file was left as they were');
  await expect(failed).toContainText('no longer exist, or are hidden');
  await expect(failed.getByTestId('bulk-failed-file')).toHaveText(['gone.txt']);
  await expect(page.getByText('Moved 2 files to the trash.')).toBeVisible();
  let trash = await api.gql<{ trash: { totalCount: number } }>(TRASH, {}, me.token);
  expect(trash.data!.trash.totalCount).toBe(2);
  // The report's own Dismiss (not a toast's "Dismiss notification", of which a fading one may
  // still be in the page) puts it away.
  await failed.getByRole('button', { name: 'Dismiss', exact: true }).click();
  await expect(failed).toHaveCount(0);

  // Undo is one restoreFiles request.
  const restores: string[] = [];
  page.on('request', (req) => {
    const body = req.postData() ?? '';
    if (req.url().endsWith('/graphql') && /restoreFiles?\(/.test(body)) restores.push(body);
  });
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByText('Restored 2 files.')).toBeVisible();
  expect(restores).toHaveLength(1);
  expect(restores[0]).toContain('restoreFiles(');
  trash = await api.gql<{ trash: { totalCount: number } }>(TRASH, {}, me.token);
  expect(trash.data!.trash.totalCount).toBe(0);
  // The restore acted on every file it was given: no report comes back.
  await expect(failed).toHaveCount(0);
});

test('the trash lists tags, and restores or deletes a selection in one go each', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Tess Trash' });
  const ids: string[] = [];
  for (const name of ['keep-a.txt', 'keep-b.txt', 'drop-c.txt']) {
    ids.push((await api.upload(me.token, { name, content: name, tags: ['Quarterly', 'Q4'] })).id);
  }
  const del = await api.gql(`mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`, { ids }, me.token);
  expect(del.errors).toBeUndefined();
  await signIn(page, me);
  await page.goto('/trash');
  const rows = page.getByTestId('trash-row');
  await expect(rows).toHaveCount(3);
  for (const row of await rows.all()) {
    await expect(row.getByTestId('trash-tag')).toHaveText(['Q4', 'Quarterly']);
  }
  await page.getByRole('checkbox', { name: 'Select keep-a.txt' }).click();
  await page.getByRole('checkbox', { name: 'Select keep-b.txt' }).click();
  const bar = page.getByTestId('trash-bulk');
  await expect(bar.getByTestId('trash-bulk-count')).toHaveText('2 selected');
  await bar.getByTestId('trash-bulk-restore').click();
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Restore 2 files' }).click();
  await expect(page.getByText('Restored 2 files.')).toBeVisible();
  await expect(rows).toHaveCount(1);
  const files = await api.gql<{
    files: { edges: { node: { name: string; tags: { name: string }[] } }[] };
  }>(`{ files(first: 10, orderBy: NAME) { edges { node { name tags { name } } } } }`, {}, me.token);
  expect(files.data!.files.edges.map((e) => e.node)).toEqual([
    { name: 'keep-a.txt', tags: [{ name: 'Q4' }, { name: 'Quarterly' }] },
    { name: 'keep-b.txt', tags: [{ name: 'Q4' }, { name: 'Quarterly' }] },
  ]);

  await page.getByTestId('trash-select-page').check();
  await bar.getByTestId('trash-bulk-purge').click();
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Delete forever' }).click();
  await expect(page.getByText('Deleted 1 file for good.')).toBeVisible();
  await expect(page.getByTestId('empty-trash')).toBeVisible();
});

test('Admin → Files: a single delete offers Undo', async ({ page, api, cabinet }) => {
  const user = await api.register({ name: 'Una Undo' });
  await api.upload(user.token, { name: 'oops.txt', content: 'oops' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  const row = page.getByTestId('files-row').filter({ hasText: 'oops.txt' });
  await row.getByTestId('file-actions').click();
  await page.getByRole('menuitem', { name: 'Delete…' }).click();
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Move to trash' }).click();
  await expect(page.getByText('Moved “oops.txt” to the trash.')).toBeVisible();
  await expect(page.getByTestId('files-row')).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByText('Restored “oops.txt”.')).toBeVisible();
  await expect(page.getByTestId('files-row')).toHaveCount(1);
});

test('an admin creates an AUDIT token in the form and reads the audit log with it', async ({
  page,
  api,
  cabinet,
}) => {
  await signIn(page, cabinet.admin);
  await page.goto('/account');
  const form = page.getByTestId('token-form');
  await form.getByLabel('Name', { exact: true }).fill('Audit export');
  await form.getByRole('checkbox', { name: /^Read / }).uncheck();
  await form.getByRole('checkbox', { name: /^Download / }).uncheck();
  await form.getByRole('checkbox', { name: /^Audit log / }).check();
  await form.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('new-token-secret').inputValue();
  expect(secret).toMatch(/^cab_/);
  const events = await api.gql<{ auditEvents: { totalCount: number } }>(
    `{ auditEvents(first: 5) { totalCount } }`,
    {},
    secret,
  );
  expect(events.errors).toBeUndefined();
  expect(events.data!.auditEvents.totalCount).toBeGreaterThan(0);

  // A USER is not offered it.
  const user = await api.register({ name: 'Ulla User' });
  await page.context().clearCookies();
  await signIn(page, user);
  await page.goto('/account');
  await expect(page.getByTestId('token-form')).toBeVisible();
  await expect(page.getByTestId('scope-card').filter({ hasText: 'Audit log' })).toHaveCount(0);
});

test('"all N matching" above 1,000 goes in requests of 1,000 with a progress bar', async ({
  page,
  api,
  cabinet,
}) => {
  test.setTimeout(300_000);
  const user = await api.register({ name: 'Many Files' });
  const N = 1005;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        const i = next++;
        await api.upload(user.token, {
          name: `m-${String(i).padStart(4, '0')}.txt`,
          content: `${i}`,
        });
      }
    }),
  );
  const sizes: number[] = [];
  page.on('request', (req) => {
    const body = req.postData() ?? '';
    if (req.url().endsWith('/graphql') && body.includes('tagFiles(')) {
      sizes.push((JSON.parse(body) as { variables: { ids: string[] } }).variables.ids.length);
    }
  });
  // The first request is held until the progress bar is seen: on a quick machine both requests
  // finish before a check of the bar could find it.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  await page.route('**/graphql', async (route) => {
    if (holding && (route.request().postData() ?? '').includes('tagFiles(')) {
      holding = false;
      await held;
    }
    await route.continue();
  });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await page.getByTestId('files-select-page').check();
  await page.getByTestId('select-all-matching').click();
  const bar = page.getByTestId('admin-bulk');
  await expect(bar.getByTestId('admin-bulk-count')).toHaveText(`${N} selected`);
  await bar.getByTestId('bulk-tag-input').fill('Batch');
  await bar.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByTestId('bulk-progress')).toBeVisible();
  release();
  await expect(page.getByText('Tagged 1,005 files “Batch”.')).toBeVisible();
  await expect(page.getByTestId('bulk-progress')).toHaveCount(0);
  expect(sizes).toEqual([1000, 5]);
  const tags = await api.gql<{ tags: { edges: { node: { name: string; fileCount: number } }[] } }>(
    `{ tags(first: 20) { edges { node { name fileCount } } } }`,
    {},
    cabinet.admin.token,
  );
  expect(tags.data!.tags.edges.map((e) => e.node)).toContainEqual({ name: 'Batch', fileCount: N });
  // A ZIP holds at most 1,000: the button says so instead of failing.
  await expect(bar.getByTestId('bulk-zip')).toBeDisabled();
});

test('the workspace tags and untags the selected files of one’s own', async ({ page, api }) => {
  const me = await api.register({ name: 'Tom Tagger' });
  const other = await api.register({ name: 'Olga Other' });
  await api.upload(me.token, { name: 'mine-1.txt', content: '1', tags: [] });
  await api.upload(me.token, { name: 'mine-2.txt', content: '2', tags: [] });
  await api.upload(other.token, { name: 'theirs.txt', content: '3', tags: [] });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-select-page').check();
  const bar = page.getByTestId('bulk-bar');
  await expect(bar.getByTestId('bulk-bar-count')).toHaveText('3 selected');
  await bar.getByTestId('bulk-tag-input').fill('Project X');
  await bar.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByText('Tagged 2 files “Project X”.')).toBeVisible();
  const tagsOf = async () => {
    const res = await api.gql<{
      files: { edges: { node: { name: string; tags: { name: string }[] } }[] };
    }>(
      `{ files(first: 10, orderBy: NAME) { edges { node { name tags { name } } } } }`,
      {},
      me.token,
    );
    return Object.fromEntries(
      res.data!.files.edges.map((e) => [e.node.name, e.node.tags.map((t) => t.name)]),
    );
  };
  expect(await tagsOf()).toEqual({
    'mine-1.txt': ['Project X'],
    'mine-2.txt': ['Project X'],
    'theirs.txt': [],
  });
  await bar.getByTestId('bulk-tag-input').fill('project x');
  await bar.getByRole('button', { name: 'Remove tag' }).click();
  await expect(page.getByText('Removed “project x” from 2 files.')).toBeVisible();
  expect(await tagsOf()).toEqual({ 'mine-1.txt': [], 'mine-2.txt': [], 'theirs.txt': [] });
});
