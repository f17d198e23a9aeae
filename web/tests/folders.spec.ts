import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, screenshot, signIn, test } from './fixtures';

// Folders, picked or dropped, upload every file inside them; each file can be tagged with the
// folders it sat in.

const FIND = `query ($q: String!) { files(query: $q) { edges { node { name tags { name } } } } }`;

test('a chosen folder uploads its files, tagged with their folders', async ({ page, api }) => {
  const run = Date.now().toString(36);
  const root = mkdtempSync(path.join(tmpdir(), 'cabinet-folder-'));
  const folder = path.join(root, 'Reports');
  try {
    mkdirSync(path.join(folder, '2026'), { recursive: true });
    mkdirSync(path.join(folder, 'notes, misc'));
    writeFileSync(path.join(folder, '2026', `q3-${run}.txt`), 'third quarter');
    writeFileSync(path.join(folder, '2026', `q4-${run}.txt`), 'fourth quarter');
    writeFileSync(path.join(folder, 'notes, misc', `todo-${run}.txt`), 'to do');
    writeFileSync(path.join(folder, '.DS_Store'), 'finder');

    const me = await api.register();
    await signIn(page, me);
    await page.goto('/workspace');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const dialog = page.getByTestId('upload-dialog');
    await dialog.getByTestId('upload-input-folder').setInputFiles(folder);

    await expect(dialog).toContainText('3 files');
    await expect(dialog.getByTestId('staged-name')).toHaveText([
      `Reports/2026/q3-${run}.txt`,
      `Reports/2026/q4-${run}.txt`,
      `Reports/notes, misc/todo-${run}.txt`,
    ]);
    await expect(page.getByText('1 system file (like .DS_Store) left out.')).toBeVisible();
    const byFolders = dialog.getByTestId('upload-folder-tags');
    await expect(byFolders).toBeChecked();
    await expect(dialog).toContainText('(Reports, 2026, notes misc)');
    await dialog.getByLabel('Tags').fill('archive,');
    await screenshot(page, 'upload-folder');
    await dialog.getByRole('button', { name: 'Upload 3 files' }).click();
    await expect(dialog).toBeHidden();

    await expect
      .poll(async () => {
        const res = await api.gql<{
          files: { edges: { node: { name: string; tags: { name: string }[] } }[] };
        }>(FIND, { q: run }, me.token);
        return res
          .data!.files.edges.map(
            ({ node }) => `${node.name}: ${node.tags.map((t) => t.name).sort()}`,
          )
          .sort();
      })
      .toEqual([
        `q3-${run}.txt: 2026,Reports,archive`,
        `q4-${run}.txt: 2026,Reports,archive`,
        `todo-${run}.txt: Reports,archive,notes misc`,
      ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('unticking folder tags is remembered in this browser', async ({ page, api }) => {
  const run = Date.now().toString(36);
  const root = mkdtempSync(path.join(tmpdir(), 'cabinet-folder-'));
  const folder = path.join(root, 'Scans');
  try {
    mkdirSync(folder);
    writeFileSync(path.join(folder, `receipt-${run}.txt`), 'paid');
    const me = await api.register();
    await signIn(page, me);
    await page.goto('/workspace');
    const dialog = page.getByTestId('upload-dialog');
    const pickFolder = async () => {
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await dialog.getByTestId('upload-input-folder').setInputFiles(folder);
      await expect(dialog.getByTestId('staged-name')).toHaveText([`Scans/receipt-${run}.txt`]);
    };

    await pickFolder();
    await dialog.getByTestId('upload-folder-tags').uncheck();
    await dialog.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect
      .poll(async () => {
        const res = await api.gql<{
          files: { edges: { node: { tags: { name: string }[] } }[] };
        }>(FIND, { q: run }, me.token);
        return res.data!.files.edges.map(({ node }) =>
          node.tags.map((t) => t.name.toLowerCase()).join(),
        );
      })
      .toEqual(['other']);

    // The next folder, and the next visit, start unticked.
    await pickFolder();
    await expect(dialog.getByTestId('upload-folder-tags')).not.toBeChecked();
    await page.reload();
    await pickFolder();
    await expect(dialog.getByTestId('upload-folder-tags')).not.toBeChecked();
    // Ticked again, it stays ticked.
    await dialog.getByTestId('upload-folder-tags').check();
    await page.reload();
    await pickFolder();
    await expect(dialog.getByTestId('upload-folder-tags')).toBeChecked();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a dropped folder is read to the bottom, past the 100 entries a read gives', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeVisible();

  // Chromium hands a dropped folder over as entries, read 100 at a time; no test can make a real
  // one, so the drop carries entries that behave as Chromium's do.
  await page.evaluate(() => {
    const fileEntry = (name: string) => ({
      isFile: true,
      isDirectory: false,
      name,
      file: (ok: (f: File) => void) => ok(new File(['x'], name, { type: 'image/jpeg' })),
    });
    const dirEntry = (name: string, children: unknown[]) => ({
      isFile: false,
      isDirectory: true,
      name,
      createReader: () => {
        let at = 0;
        return {
          readEntries: (ok: (batch: unknown[]) => void) => {
            const batch = children.slice(at, at + 100);
            at += batch.length;
            setTimeout(() => ok(batch));
          },
        };
      },
    });
    // Twelve folders deep: only the outer ten become tags. A name over 40 characters: none.
    let deep: unknown = fileEntry('deep.jpg');
    for (let level = 12; level >= 1; level--) deep = dirEntry(`d${level}`, [deep]);
    const photos = dirEntry('Photos', [
      ...Array.from({ length: 150 }, (_, i) => fileEntry(`img-${i}.jpg`)),
      dirEntry('Trip', [fileEntry('beach.jpg'), fileEntry('Thumbs.db')]),
      deep,
      dirEntry('x'.repeat(41), [fileEntry('long.jpg')]),
    ]);
    const drop = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', {
      value: {
        types: ['Files'],
        files: [],
        items: [{ kind: 'file', webkitGetAsEntry: () => photos, getAsFile: () => null }],
      },
    });
    window.dispatchEvent(drop);
  });

  const dialog = page.getByTestId('upload-dialog');
  await expect(dialog).toContainText('153 files');
  await expect(
    dialog.getByTestId('staged-name').filter({ hasText: 'Photos/img-149.jpg' }),
  ).toHaveCount(1);
  await expect(
    dialog.getByTestId('staged-name').filter({ hasText: 'Photos/Trip/beach.jpg' }),
  ).toHaveCount(1);
  // Photos, d1 … d9 (Photos is the first of the deep file's ten) and Trip, in path order.
  await expect(dialog).toContainText('(Photos, d1, d2, d3, and 7 more)');
  await expect(page.getByText('1 system file (like .DS_Store) left out.')).toBeVisible();
});

test('Admin → Add files takes a folder: each file keeps its type tag and gains its folders', async ({
  page,
  api,
  cabinet,
}) => {
  const run = Date.now().toString(36);
  const root = mkdtempSync(path.join(tmpdir(), 'cabinet-folder-'));
  const folder = path.join(root, 'Brand kit');
  try {
    mkdirSync(path.join(folder, 'Logos'), { recursive: true });
    writeFileSync(path.join(folder, 'Logos', `mark-${run}.txt`), 'mark');
    writeFileSync(path.join(folder, `guide-${run}.txt`), 'guide');

    await signIn(page, cabinet.admin);
    await page.goto('/admin/files');
    await page.getByTestId('add-files').click();
    const dialog = page.getByTestId('add-files-dialog');
    await dialog.getByTestId('add-files-input-folder').setInputFiles(folder);
    const items = dialog.getByRole('list', { name: 'Files to add' }).locator(':scope > li');
    await expect(items).toHaveCount(2);
    await dialog.getByRole('button', { name: /^Add 2 files/ }).click();
    await expect(dialog).toBeHidden();

    await expect
      .poll(async () => {
        const res = await api.gql<{
          files: { edges: { node: { name: string; tags: { name: string }[] } }[] };
        }>(FIND, { q: run }, cabinet.admin.token);
        return res
          .data!.files.edges.map(
            ({ node }) => `${node.name}: ${node.tags.map((t) => t.name).sort()}`,
          )
          .sort();
      })
      .toEqual([`guide-${run}.txt: Brand kit,Other`, `mark-${run}.txt: Brand kit,Logos,Other`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
