import { expect, signIn, test } from './fixtures';

// A server of its own: Admin → Links then holds exactly this test's links.
test.use({ ownServer: true });

// Admin → Links filters on the server: state and search live in the URL (a reload keeps them),
// the total counts what matches, "no links match" offers to clear, and revoke still asks first.

const CREATE = `mutation($fileIds: [ID!]!, $note: String) {
  createShareLink(fileIds: $fileIds, note: $note) { id } }`;
const REVOKE = `mutation($id: ID!) { revokeShareLink(id: $id) }`;

test('admin filters share links by state and search, kept in the URL', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register({ name: 'Lena Linker' });
  const report = await api.upload(me.token, { name: 'report.txt', content: 'numbers' });
  const plan = await api.upload(me.token, { name: 'plan.txt', content: 'steps' });
  const make = async (fileId: string, note: string) => {
    const res = await api.gql<{ createShareLink: { id: string } }>(
      CREATE,
      { fileIds: [fileId], note },
      me.token,
    );
    return res.data!.createShareLink.id;
  };
  await make(report.id, 'For the auditors');
  const stopped = await make(plan.id, 'Old plan');
  await make(plan.id, 'New plan');
  await api.gql(REVOKE, { id: stopped }, me.token);

  await signIn(page, cabinet.admin);
  await page.goto('/admin/links');
  const rows = page.getByTestId('links-row');
  await expect(rows).toHaveCount(3);

  await page.getByLabel('State').selectOption('stopped');
  await expect(page).toHaveURL(/[?&]state=stopped/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Old plan');
  await expect(rows.first().getByTestId('share-link-state')).toHaveText('Revoked');

  await page.getByLabel('State').selectOption('working');
  await page.getByLabel('Search share links').fill('PLAN');
  await expect(page).toHaveURL(/[?&]q=PLAN/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('New plan');

  await page.reload();
  await expect(page.getByLabel('State')).toHaveValue('working');
  await expect(page.getByLabel('Search share links')).toHaveValue('PLAN');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('New plan');

  // Revoke still asks first; the working filter then has nothing left to show.
  await rows.first().getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Revoke link' }).click();
  await expect(page.getByTestId('empty-state')).toContainText('No links match');
  await page.getByRole('button', { name: 'Clear search and filters' }).click();
  await expect(page).not.toHaveURL(/state=|q=/);
  await expect(rows).toHaveCount(3);

  // My links asks the server for the state too: two of Lena's three links are stopped by now.
  const mine = await (await page.context().browser()!.newContext({ baseURL: api.url })).newPage();
  await signIn(mine, me);
  await mine.goto('/shares');
  const myRows = mine.getByTestId('share-link-row');
  await expect(myRows).toHaveCount(3);
  await mine.getByLabel('State').selectOption('stopped');
  await expect(myRows).toHaveCount(2);
  await mine.getByLabel('State').selectOption('working');
  await expect(myRows).toHaveCount(1);
  await expect(myRows.first()).toContainText('For the auditors');
});

test('a link stopped by its creator’s ban, or by files all hidden, reads Stopped with no filter', async ({
  page,
  api,
  cabinet,
}) => {
  const banned = await api.register({ name: 'Bert Banned' });
  const keeper = await api.register({ name: 'Kim Keeper' });
  const theirs = await api.upload(banned.token, { name: 'banned.txt', content: 'b' });
  const kept = await api.upload(keeper.token, { name: 'kept.txt', content: 'k' });
  const hidden = await api.upload(keeper.token, { name: 'hidden.txt', content: 'h' });
  for (const [user, fileId, note] of [
    [banned, theirs.id, 'By Bert'],
    [keeper, kept.id, 'Still fine'],
    [keeper, hidden.id, 'All hidden'],
  ] as const) {
    const res = await api.gql(CREATE, { fileIds: [fileId], note }, user.token);
    expect(res.errors).toBeUndefined();
  }
  const admin = cabinet.admin.token;
  expect(
    (await api.gql(`mutation($id: ID!) { banUser(id: $id) { id } }`, { id: banned.id }, admin))
      .errors,
  ).toBeUndefined();
  expect(
    (
      await api.gql(
        `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
        { id: hidden.id },
        admin,
      )
    ).errors,
  ).toBeUndefined();

  await signIn(page, cabinet.admin);
  await page.goto('/admin/links');
  const rows = page.getByTestId('links-row');
  await expect(rows).toHaveCount(3);
  const badge = (note: string) => rows.filter({ hasText: note }).getByTestId('share-link-state');
  // The admin still sees the hidden file listed, and nothing on the row tells of the ban: only
  // the server's state does.
  await expect(badge('By Bert')).toHaveText('Stopped');
  await expect(badge('All hidden')).toHaveText('Stopped');
  await expect(badge('Still fine')).toHaveText('Working');
});
