import { expect, signIn, test } from './fixtures';

// Bulk actions: ticking rows across pages (shift-click ranges, the page checkbox), moving them to
// the trash and back with the undo toast, sharing a selection as one link, and the admin's bulk
// hide and tag. A server of its own: lists and counts hold exactly these files.
test.use({ ownServer: true });

const FILES = `query($first: Int) { files(first: $first, orderBy: NAME) { totalCount
  edges { node { name status tags { name } } } } }`;

interface Listing {
  files: {
    totalCount: number;
    edges: { node: { name: string; status: string; tags: { name: string }[] } }[];
  };
}

test('select across pages with a shift range, trash the selection, then undo', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Bea Bulk' });
  // Uploaded f-00 … f-11; newest first, page size 10: f-11 … f-02 on page 1, f-01, f-00 on page 2.
  for (let i = 0; i < 12; i++) {
    await api.upload(me.token, { name: `f-${String(i).padStart(2, '0')}.txt`, content: `n${i}` });
  }
  await signIn(page, me);
  await page.goto('/workspace?size=10');
  const rows = page.getByTestId('file-row');
  await expect(rows).toHaveCount(10);

  await page.getByRole('checkbox', { name: 'Select f-11.txt' }).click();
  await page.getByRole('checkbox', { name: 'Select f-08.txt' }).click({ modifiers: ['Shift'] });
  const bar = page.getByTestId('bulk-bar');
  await expect(bar.getByTestId('bulk-bar-count')).toHaveText('4 selected');
  await expect(page.getByRole('status').filter({ hasText: '4 files selected' })).toBeAttached();
  for (const name of ['f-11.txt', 'f-10.txt', 'f-09.txt', 'f-08.txt']) {
    await expect(page.getByRole('checkbox', { name: `Select ${name}` })).toBeChecked();
  }
  await expect(page.getByRole('checkbox', { name: 'Select f-07.txt' })).not.toBeChecked();
  // The page checkbox is mixed now; keyboard: Space on a focused row box ticks it.
  await page.getByRole('checkbox', { name: 'Select f-02.txt' }).focus();
  await page.keyboard.press('Space');
  await expect(bar.getByTestId('bulk-bar-count')).toHaveText('5 selected');

  // Page 2 keeps the selection.
  await page.getByRole('button', { name: 'Page 2', exact: true }).click();
  await expect(rows).toHaveCount(2);
  await page.getByRole('checkbox', { name: 'Select f-00.txt' }).click();
  await expect(bar.getByTestId('bulk-bar-count')).toHaveText('6 selected');

  await bar.getByTestId('bulk-trash').click();
  await page.getByRole('button', { name: 'Move to trash' }).click();
  // Page 2 emptied: the table steps back to page 1, where six files are left.
  await expect(rows).toHaveCount(6);
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);
  let listing = (await api.gql<Listing>(FILES, { first: 50 }, me.token)).data!;
  expect(listing.files.totalCount).toBe(6);

  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByText('Restored 6 files.')).toBeVisible();
  listing = (await api.gql<Listing>(FILES, { first: 50 }, me.token)).data!;
  expect(listing.files.totalCount).toBe(12);
  await expect(rows).toHaveCount(10);

  // A new search starts a new selection.
  await page.getByRole('checkbox', { name: 'Select f-11.txt' }).click();
  await expect(bar).toBeVisible();
  await page.goto('/workspace?size=10&q=f-0');
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);
});

test('share two selected files as one link that opens on /s/<token>', async ({ page, api }) => {
  const me = await api.register({ name: 'Sol Selector' });
  await api.upload(me.token, { name: 'alpha.txt', content: 'alpha' });
  await api.upload(me.token, { name: 'beta.txt', content: 'beta' });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-select-page').check();
  await expect(page.getByTestId('bulk-bar-count')).toHaveText('2 selected');
  await page.getByTestId('bulk-share').click();
  const dialog = page.getByTestId('share-dialog');
  await dialog.getByTestId('share-create').click();
  await expect(dialog.getByTestId('share-created')).toBeVisible();
  const url = await dialog.locator('#share-url').inputValue();
  expect(url).toMatch(/\/s\/[A-Za-z0-9_-]+$/);

  const stranger = await page.context().browser()!.newContext();
  const other = await stranger.newPage();
  await other.goto(url);
  await expect(other.getByTestId('share-page')).toContainText('Sol Selector shared 2 files');
  await expect(other.getByRole('link', { name: 'Download alpha.txt' })).toBeVisible();
  await expect(other.getByRole('link', { name: 'Download beta.txt' })).toBeVisible();
  await stranger.close();
});

test('admin hides and tags a selection in one go each', async ({ page, api, cabinet }) => {
  const user = await api.register({ name: 'Uma Uploader' });
  for (const name of ['one.txt', 'two.txt', 'three.txt']) {
    await api.upload(user.token, { name, content: name });
  }
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await expect(page.getByTestId('files-row')).toHaveCount(3);
  await page.getByRole('checkbox', { name: 'Select one.txt' }).click();
  await page.getByRole('checkbox', { name: 'Select three.txt' }).click();
  const bar = page.getByTestId('admin-bulk');
  await expect(bar.getByTestId('admin-bulk-count')).toHaveText('2 selected');

  await bar.getByRole('button', { name: 'Hide' }).click();
  await expect(page.getByText('2 files hidden.')).toBeVisible();
  await bar.getByTestId('bulk-tag-input').fill('Audit 2026');
  await bar.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByText('Tagged 2 files “Audit 2026”.')).toBeVisible();

  const listing = (await api.gql<Listing>(FILES, { first: 10 }, cabinet.admin.token)).data!;
  const byName = Object.fromEntries(listing.files.edges.map((e) => [e.node.name, e.node]));
  for (const name of ['one.txt', 'three.txt']) {
    expect(byName[name]!.status).toBe('HIDDEN');
    expect(byName[name]!.tags.map((t) => t.name).sort()).toEqual(['Audit 2026', 'Other']);
  }
  expect(byName['two.txt']!.status).toBe('ACTIVE');
  expect(byName['two.txt']!.tags.map((t) => t.name)).not.toContain('Audit 2026');
  // USERs no longer see the hidden ones.
  const theirs = (await api.gql<Listing>(FILES, { first: 10 }, user.token)).data!;
  expect(theirs.files.edges.map((e) => e.node.name)).toEqual(['two.txt']);
});
