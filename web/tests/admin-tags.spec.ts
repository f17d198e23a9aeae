import { expect, signIn, test } from './fixtures';

// Tags admin: create, rename onto a taken name (error in the field), rename, search, delete with
// a confirmation that says how many files lose the tag.

test('create, rename with a conflict, search and delete a tag', async ({ page, api, cabinet }) => {
  const run = Date.now().toString(36);
  const taken = `Taken ${run}`;
  const fresh = `Fresh ${run}`;
  const renamed = `Renamed ${run}`;
  await api.gql(
    'mutation ($name: String!) { createTag(name: $name) { id } }',
    { name: taken },
    cabinet.admin.token,
  );
  // Two files carry the tag we will delete.
  for (const name of ['a.txt', 'b.txt']) {
    await api.upload(cabinet.admin.token, { name: `${run}-${name}`, content: 'x', tags: [fresh] });
  }

  await signIn(page, cabinet.admin);
  await page.goto('/admin/tags');
  await expect(page.getByTestId('tags-row').first()).toBeVisible();

  // Create.
  const created = `New ${run}`;
  await page.getByTestId('new-tag').click();
  const dialog = page.getByTestId('tag-dialog');
  await dialog.getByLabel('Name').fill(created);
  await dialog.getByTestId('tag-save').click();
  await expect(dialog).toBeHidden();

  // Search narrows the table to the run's tags.
  await page.getByLabel('Search tags').fill(run);
  await expect(page.getByTestId('tags-row')).toHaveCount(3);
  await expect(page.getByTestId('table-total')).toHaveText('3');
  await page.getByLabel('Search tags').fill(created);
  await expect(page.getByTestId('tags-row')).toHaveCount(1);

  // Renaming onto a taken name (whatever the case) shows the conflict in the field.
  await page.getByRole('button', { name: `Rename ${created}` }).click();
  await dialog.getByLabel('Name').fill(taken.toUpperCase());
  await dialog.getByTestId('tag-save').click();
  await expect(page.getByTestId('tag-name-error')).toContainText('already exists');
  await expect(dialog.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Name').fill(renamed);
  await dialog.getByTestId('tag-save').click();
  await expect(dialog).toBeHidden();
  await page.getByLabel('Search tags').fill(run);
  await expect(page.getByTestId('tags-row').filter({ hasText: renamed })).toHaveCount(1);
  await expect(page.getByTestId('tags-row').filter({ hasText: created })).toHaveCount(0);

  // Sorting by file count puts the tag with files first; by name, alphabetical again.
  await page.getByRole('button', { name: 'Files', exact: true }).click();
  await expect(page.getByTestId('tags-row').first()).toContainText(fresh);
  await expect(page).toHaveURL(/sort=files%3Adesc|sort=files:desc/);
  await page.getByRole('button', { name: 'Name', exact: true }).click();
  await expect(page.getByTestId('tags-row').first()).toContainText(fresh);
  await expect(page.getByTestId('tags-row').last()).toContainText(taken);

  // Delete: the confirmation counts the files that lose the tag.
  const row = page.getByTestId('tags-row').filter({ hasText: fresh });
  await expect(row).toContainText('2');
  await page.getByRole('button', { name: `Delete ${fresh}` }).click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText('2 files will lose this tag');
  await confirm.getByRole('button', { name: 'Delete tag' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('tags-row')).toHaveCount(2);
});
