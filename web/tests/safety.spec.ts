import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, signIn, test } from './fixtures';

// Safety nets: a delete goes to the trash and can be undone from its toast or restored from the
// Trash page; the audit log lists admin actions, filters them and exports them as CSV.

test.use({ ownServer: true });

const rows = (page: Page) => page.getByTestId('file-row');
const row = (page: Page, name: string) => rows(page).filter({ hasText: name });

test('delete to the trash, undo from the toast, restore and delete forever', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'keep-me.txt', content: 'precious' });
  await api.upload(me.token, { name: 'other.txt', content: 'other' });
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(rows(page)).toHaveCount(2);

  // Delete, then undo from the toast: the file is back.
  await row(page, 'keep-me.txt').getByRole('button', { name: 'Delete keep-me.txt' }).click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await expect(rows(page)).toHaveCount(1);
  const toasts = page.getByTestId('toasts');
  await expect(toasts).toContainText('Moved “keep-me.txt” to the trash');
  await toasts.getByRole('button', { name: 'Undo' }).click();
  await expect(toasts).toContainText('Restored “keep-me.txt”');
  await expect(row(page, 'keep-me.txt')).toHaveCount(1);

  // Delete again; this time restore it from the Trash page.
  await row(page, 'keep-me.txt').getByRole('button', { name: 'Delete keep-me.txt' }).click();
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await expect(rows(page)).toHaveCount(1);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click();
  const trashRows = page.getByTestId('trash-row');
  await expect(trashRows).toHaveCount(1);
  await expect(page.getByTestId('trash-name')).toHaveText('keep-me.txt');
  // When it goes for good: TRASH_DAYS (30 by default) after the delete.
  await expect(page.getByTestId('trash-purge')).toHaveText('gone for good in 30 days');
  await trashRows.getByRole('button', { name: 'Restore' }).click();
  await confirm.getByRole('button', { name: 'Restore file' }).click();
  await expect(page.getByTestId('empty-trash')).toBeVisible();
  await page.goto('/workspace');
  await expect(row(page, 'keep-me.txt')).toHaveCount(1);

  // And once more, deleted forever after a confirmation that can be cancelled.
  await row(page, 'keep-me.txt').getByRole('button', { name: 'Delete keep-me.txt' }).click();
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await expect(rows(page)).toHaveCount(1);
  await page.goto('/trash');
  await trashRows.getByRole('button', { name: 'Delete forever' }).click();
  await expect(confirm).toContainText('cannot be undone');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(trashRows).toHaveCount(1);
  await trashRows.getByRole('button', { name: 'Delete forever' }).click();
  await confirm.getByRole('button', { name: 'Delete forever' }).click();
  await expect(page.getByTestId('empty-trash')).toBeVisible();
  const trash = await api.gql<{ trash: { totalCount: number } }>(
    '{ trash { totalCount } }',
    {},
    me.token,
  );
  expect(trash.data?.trash.totalCount).toBe(0);
});

test('the audit log lists admin actions, filters by action and actor, and exports CSV', async ({
  page,
  api,
  cabinet,
}) => {
  const victim = await api.register({ name: 'Vic Tim' });
  await api.gql(
    'mutation ($id: ID!) { banUser(id: $id) { id } }',
    { id: victim.id },
    cabinet.admin.token,
  );
  await api.gql('mutation { createTag(name: "Audited") { id } }', {}, cabinet.admin.token);

  await signIn(page, cabinet.admin);
  await page.goto('/admin');
  await page
    .getByRole('navigation', { name: 'Administration' })
    .getByRole('link', { name: 'Audit' })
    .click();
  const auditRows = page.getByTestId('audit-row');
  await expect(auditRows).toHaveCount(2);
  await expect(auditRows.first()).toContainText('tag.create');
  await expect(auditRows.nth(1)).toContainText('user.ban');
  await expect(auditRows.nth(1)).toContainText(victim.email);
  await expect(auditRows.nth(1)).toContainText('banned: no → yes');

  await page.getByTestId('audit-action').selectOption('user.');
  await expect(auditRows).toHaveCount(1);
  await expect(page.getByTestId('audit-action-cell')).toHaveText('user.ban');
  await page.getByTestId('audit-action').selectOption('');
  await expect(auditRows).toHaveCount(2);

  // Clicking an actor keeps only their actions.
  await auditRows.first().getByRole('button', { name: cabinet.admin.email }).click();
  await expect(page.getByTestId('audit-actor-filter')).toContainText(cabinet.admin.email);
  await expect(auditRows).toHaveCount(2);

  const downloadPromise = page.waitForEvent('download');
  await page.getByTestId('audit-export').click();
  const download = await downloadPromise;
  const csv = await readFile((await download.path())!, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('id,at,actor,actorId,action,targetType,targetId,target,address,details');
  expect(lines).toHaveLength(3);
  expect(lines[2]).toContain('user.ban');
  expect(lines[2]).toContain(victim.email);
  // The details JSON is one quoted field.
  expect(lines[2]).toContain('"{""before"":{""banned"":false},""after"":{""banned"":true}}"');
});

test('an admin sets a quota with a usage bar, and the account page shows the usage', async ({
  page,
  api,
  cabinet,
}) => {
  const user = await api.register({ name: 'Quota Quinn' });
  await api.upload(user.token, { name: 'half.bin', content: Buffer.alloc(1024, 1) });

  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');
  await page.getByLabel('Search users').fill(user.email);
  const userRow = page.getByRole('row').filter({ hasText: user.email });
  await expect(userRow).toContainText('1.0 KB used, no limit');
  await userRow.getByTestId('user-actions').click();
  await page.getByRole('menuitem', { name: 'Storage quota…' }).click();
  const dialog = page.getByTestId('quota-dialog');
  await dialog.getByLabel('Quota in GiB').fill('1');
  await dialog.getByRole('button', { name: 'Set quota' }).click();
  await expect(dialog).toBeHidden();
  await expect(userRow).toContainText('of 1.1 GB used');
  await expect(userRow.getByRole('meter', { name: 'Storage used' })).toHaveAttribute(
    'aria-valuenow',
    '1024',
  );

  await page.context().clearCookies();
  await signIn(page, user);
  await page.goto('/account');
  await expect(page.getByTestId('storage-usage')).toContainText('of 1.1 GB used');
});
