import { expect, signIn, test } from './fixtures';

// The one component kit (issue 12): one pager everywhere, one tag limit counted one way.
test.use({ ownServer: true });

test('every table pages the same way: 25 by default, a Per page control that lives in the URL', async ({
  page,
  api,
  cabinet,
}) => {
  for (let i = 0; i < 11; i++) await api.register({ name: `Member ${i}` });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/users');
  const pager = page.getByTestId('pagination');
  const perPage = pager.getByLabel('Per page');
  await expect(perPage).toHaveValue('25');
  await expect(pager).toContainText('1–12 of 12 users');
  await perPage.selectOption('10');
  await expect(page).toHaveURL(/size=10/);
  await expect(pager).toContainText('1–10 of 12 users');
  await pager.getByRole('button', { name: 'Page 2' }).click();
  await expect(pager).toContainText('11–12 of 12 users');
  await page.reload();
  await expect(pager).toContainText('11–12 of 12 users');

  await page.goto('/workspace');
  await expect(page.getByTestId('empty-library')).toBeVisible();
  await page.goto('/history');
  await expect(page.getByTestId('empty-downloads')).toBeVisible();
});

test('the 40-character tag limit counts characters, not UTF-16 units', async ({ page, api }) => {
  const me = await api.register();
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('upload-button').click();
  const dialog = page.getByTestId('upload-dialog');
  await page
    .getByTestId('upload-input')
    .setInputFiles([{ name: 'emoji.txt', mimeType: 'text/plain', buffer: Buffer.from('e') }]);
  const tags = dialog.getByLabel('Tags');
  await tags.fill('🙂'.repeat(40));
  await expect(dialog.getByRole('button', { name: 'Upload' })).toBeEnabled();
  await tags.fill('🙂'.repeat(41));
  await expect(dialog).toContainText('is longer than 40 characters');
  await expect(dialog.getByRole('button', { name: 'Upload' })).toBeDisabled();
  await tags.fill('🙂'.repeat(40));
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('file-row')).toContainText('🙂'.repeat(40));
});

test('admin files filter by status and tag, in the URL', async ({ page, api, cabinet }) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'seen.txt', content: 's', tags: ['alpha'] });
  const gone = await api.upload(me.token, { name: 'unseen.txt', content: 'u', tags: ['beta'] });
  await api.gql(
    `mutation ($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
    { id: gone.id },
    cabinet.admin.token,
  );
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  const pager = page.getByTestId('pagination');
  await expect(pager).toContainText('of 2 files');
  await page.locator('#files-status').selectOption('HIDDEN');
  await expect(page).toHaveURL(/status=HIDDEN/);
  await expect(pager).toContainText('1–1 of 1 file');
  await expect(page.getByText('unseen.txt')).toBeVisible();
  await page.locator('#files-status').selectOption('');
  await page.locator('#files-tag').selectOption({ label: 'alpha (1)' });
  await expect(page).toHaveURL(/tag=/);
  await expect(pager).toContainText('1–1 of 1 file');
  await expect(page.getByText('seen.txt', { exact: true })).toBeVisible();
});

test('a table card keeps its content inside: long emails on phones, the pager inset from the edge', async ({
  page,
  api,
  cabinet,
}) => {
  await api.register({ name: 'Long', email: `a-rather-long-address-${Date.now()}@example.test` });
  await signIn(page, cabinet.admin);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/admin/users');
    const card = page.locator('section.table-card');
    await expect(page.locator('span.email').first()).toBeVisible();
    const outer = (await card.boundingBox())!;
    const email = (await page.locator('span.email').first().boundingBox())!;
    expect(
      email.x + email.width,
      `the email ends inside the card at ${width} px`,
    ).toBeLessThanOrEqual(outer.x + outer.width);
    const pager = (await card
      .getByTestId('pagination')
      .getByText(/of \d+ users?/)
      .boundingBox())!;
    expect(pager.x - outer.x, `the pager's text is inset at ${width} px`).toBeGreaterThanOrEqual(8);
  }
});

test('the one file table: at 390 px the actions never cover a name; at 1280 px Admin → Files keeps its actions inside the card', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register({ name: 'Bartholomew Featherstonehaugh-Whittingham the Third' });
  const name = 'Quarterly planning notes for the whole product team.pdf';
  await api.upload(me.token, { name, content: 'p', tags: ['planning'] });
  await signIn(page, me);
  await page.setViewportSize({ width: 390, height: 900 });
  await page.goto('/workspace');
  const row = page.getByTestId('file-row').first();
  const title = (await row.getByTestId('file-name').boundingBox())!;
  const edit = (await row.getByRole('button', { name: `Edit ${name}` }).boundingBox())!;
  const overlaps =
    edit.x < title.x + title.width &&
    title.x < edit.x + edit.width &&
    edit.y < title.y + title.height &&
    title.y < edit.y + edit.height;
  expect(overlaps, 'the Edit button lies clear of the file name').toBe(false);

  await signIn(page, cabinet.admin);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/admin/files');
  const card = (await page.locator('section.table-card').boundingBox())!;
  const actions = (await page.getByRole('button', { name: `Actions for ${name}` }).boundingBox())!;
  expect(actions.x + actions.width, 'the actions end inside the card').toBeLessThanOrEqual(
    card.x + card.width,
  );
});

test("the bottom bar on a phone shows every label whole, a member's five and an admin's six", async ({
  page,
  api,
  cabinet,
}) => {
  const member = await api.register();
  for (const [who, labels] of [
    [member, ['Files', 'History', 'My links', 'Trash', 'Account']],
    [cabinet.admin, ['Files', 'History', 'My links', 'Trash', 'Account', 'Admin']],
  ] as const) {
    await signIn(page, who);
    for (const width of [360, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto('/workspace');
      const nav = page.getByRole('navigation', { name: 'Main' });
      const shown = nav.locator('a span').filter({ visible: true });
      await expect(shown).toHaveText([...labels]);
      // Each label fits its box (text width / box width when not): no "Worksp…", "Downlo…".
      const cut = await shown.evaluateAll((spans) =>
        spans
          .filter((s) => s.scrollWidth > s.clientWidth + 0.5)
          .map((s) => `${s.textContent} ${s.scrollWidth}/${s.clientWidth}`),
      );
      expect(cut, `labels cut at ${width} px`).toEqual([]);
    }
    // Screen readers hear the full names.
    await expect(page.getByRole('link', { name: 'My downloads' })).toBeVisible();
    await page.context().clearCookies();
  }
});
