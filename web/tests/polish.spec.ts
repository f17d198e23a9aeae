import type { Locator } from '@playwright/test';
import { expect, screenshot, signIn, test } from './fixtures';
import { pictureOf } from './pictures';

// What a review of every page's screenshots (both themes, 1280 and 390 px) found: each test here
// fails without its fix.
test.use({ ownServer: true });

const box = async (locator: Locator) => (await locator.boundingBox())!;

/** The pressed and the unpressed button of a segmented control, as the eye tells them apart. */
async function pressedLooks(group: Locator) {
  return group.evaluate((el) => {
    const look = (b: Element) => {
      const s = getComputedStyle(b);
      return { background: s.backgroundColor, shadow: s.boxShadow, weight: s.fontWeight };
    };
    return {
      on: look(el.querySelector('button[aria-pressed="true"]')!),
      off: look(el.querySelector('button[aria-pressed="false"]')!),
      group: getComputedStyle(el).backgroundColor,
    };
  });
}

test('on a phone the viewer keeps the name, Download and Share in sight, without zoom buttons', async ({
  page,
  api,
}) => {
  const me = await api.register();
  const png = await pictureOf(320, 200, { r: 20, g: 120, b: 200 });
  await api.upload(me.token, { name: 'team-offsite-photo.png', content: png });
  await signIn(page, me);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: 'team-offsite-photo.png' }).click();
  await expect(page.getByTestId('viewer-image')).toBeVisible();
  // The name is whole in the bar (the zoom buttons, which took its room, are for a mouse).
  const name = page.getByTestId('viewer-name');
  await expect(name).toHaveText('team-offsite-photo.png');
  expect(
    await name.evaluate(
      (h) => h.scrollWidth <= h.clientWidth && h.scrollHeight <= h.clientHeight + 1,
    ),
    'the whole name shows',
  ).toBe(true);
  await expect(page.getByRole('button', { name: 'Zoom in' })).toBeHidden();
  for (const testid of ['viewer-download', 'viewer-share']) {
    const b = await box(page.getByTestId(testid));
    expect(b.y + b.height, `${testid} ends on the first screen`).toBeLessThanOrEqual(844);
  }
  // A desktop window keeps the zoom.
  await page.setViewportSize({ width: 1280, height: 860 });
  await expect(page.getByRole('button', { name: 'Zoom in' })).toBeVisible();
});

test('segmented controls show which choice is on, in both themes', async ({ page, api }) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'a.txt', content: 'a', tags: ['x'] });
  await signIn(page, me);
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/workspace');
    for (const group of [
      page.getByRole('group', { name: 'Show files as' }),
      page.getByRole('group', { name: 'Files must carry' }),
    ]) {
      const looks = await pressedLooks(group);
      expect(looks.on.background, `${scheme}: the choice on stands out of its group`).not.toBe(
        looks.group,
      );
      expect(looks.off.background).not.toBe(looks.on.background);
      expect(looks.on.shadow).not.toBe('none');
      expect(Number(looks.on.weight)).toBeGreaterThan(Number(looks.off.weight));
    }
    // Native controls follow the theme: a dark page does not show light checkboxes.
    await expect(page.getByRole('checkbox').first()).toHaveCSS('color-scheme', scheme);
    // Ticked boxes take the theme's primary colour, in the table as in the tag panel.
    await expect(page.getByTestId('file-select').first()).toHaveCSS(
      'accent-color',
      scheme === 'light' ? 'rgb(79, 70, 229)' : 'rgb(139, 147, 255)',
    );
  }
});

test('Admin: the six sections stay on one row at 390 px', async ({ page, cabinet }) => {
  await signIn(page, cabinet.admin);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/admin/audit');
  const links = page.getByRole('navigation', { name: 'Administration' }).getByRole('link');
  await expect(links).toHaveCount(6);
  const tops = await links.evaluateAll((as) => as.map((a) => a.getBoundingClientRect().top));
  expect(new Set(tops).size, `tops ${tops.join(', ')}`).toBe(1);
  const last = await box(links.last());
  expect(last.x + last.width).toBeLessThanOrEqual(390);
});

test('number columns line up with their headers; chips can be removed by a finger', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Maya Chen' });
  await api.upload(me.token, { name: 'report.pdf', content: 'x'.repeat(5000), tags: ['q3'] });
  await signIn(page, me);
  await page.goto('/workspace');
  // Measured once the file's row stands where the loading rows stood.
  await expect(page.getByTestId('file-row')).toHaveCount(1);
  for (const column of ['size', 'downloads']) {
    const label = page.locator(`th[data-column="${column}"] .sort span`).first();
    const cell = page.locator(`td[data-column="${column}"]`).first();
    const labelRight = (await box(label)).x + (await box(label)).width;
    const textRight = await cell.evaluate((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      return range.getBoundingClientRect().right;
    });
    expect(
      Math.abs(labelRight - textRight),
      `${column}: header and numbers end together`,
    ).toBeLessThan(3);
    // …and stand on the same line as the labels of the other sortable columns.
    const nameTop = (await box(page.locator('th[data-column="name"] .sort span').first())).y;
    expect(
      Math.abs((await box(label)).y - nameTop),
      `${column}: on the headers' line`,
    ).toBeLessThan(0.5);
  }
  // One avatar, two letters, in the header and on the account page alike.
  await expect(page.locator('header .avatar')).toHaveText('MC');
  await page.goto('/account');
  await expect(page.locator('.avatar').last()).toHaveText('MC');

  // A tag chip's remove button is at least 24 px square (WCAG 2.5.8).
  await page.goto('/workspace');
  await page.getByRole('button', { name: 'Edit report.pdf' }).click();
  const remove = page.getByRole('button', { name: 'Remove tag q3' });
  // (Polled: the dialog grows into place.)
  await expect.poll(async () => (await box(remove)).width).toBeGreaterThanOrEqual(24);
  await expect.poll(async () => (await box(remove)).height).toBeGreaterThanOrEqual(24);
});

test('the gallery lines up with the toolbar above it', async ({ page, api }) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'a.txt', content: 'a' });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('view-gallery').click();
  const first = await box(page.getByTestId('gallery-item').first());
  const toolbarLeft = await page
    .getByRole('group', { name: 'Show files as' })
    .locator('..')
    .evaluate(
      (el) => el.getBoundingClientRect().left + parseFloat(getComputedStyle(el).paddingLeft),
    );
  expect(Math.abs(first.x - toolbarLeft)).toBeLessThan(2);
});

test('on a phone a card’s checkbox sits beside its title, a finger’s size, clear of the name', async ({
  page,
  api,
}) => {
  const me = await api.register();
  const name = 'Quarterly planning notes for the whole product team.pdf';
  await api.upload(me.token, { name, content: 'p', tags: ['planning'] });
  await signIn(page, me);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/workspace');
  const row = page.getByTestId('file-row').first();
  const check = await box(row.getByRole('checkbox'));
  const title = await box(row.getByTestId('file-name'));
  expect(check.width).toBeGreaterThanOrEqual(24);
  expect(check.y, 'on the title’s first line, not a row above it').toBeGreaterThanOrEqual(
    title.y - 12,
  );
  expect(check.x, 'right of the name').toBeGreaterThanOrEqual(title.x + title.width);
});

test('a share link’s expiry: four choices on one row of a phone, the chosen one marked', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'contract.pdf', content: 'c' });
  await signIn(page, me);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/workspace');
  await page.getByRole('button', { name: 'Share contract.pdf' }).click();
  const group = page.getByRole('group', { name: 'Expires after' });
  const choices = group.locator('label');
  await expect(choices).toHaveText(['1 day', '7 days', '30 days', 'Never']);
  const tops = await choices.evaluateAll((ls) => ls.map((l) => l.getBoundingClientRect().top));
  expect(new Set(tops).size, `tops ${tops.join(', ')}`).toBe(1);
  await group.getByText('30 days').click();
  await expect(group.getByRole('radio', { name: '30 days' })).toBeChecked();
  const look = (text: string) =>
    choices.filter({ hasText: text }).evaluate((l) => getComputedStyle(l).backgroundColor);
  expect(await look('30 days')).not.toBe(await look('7 days'));
  // The radios stay reachable from the keyboard.
  await group.getByRole('radio', { name: '30 days' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(group.getByRole('radio', { name: 'Never' })).toBeChecked();
});

test('Admin → Files gallery marks the hidden files, as its table does', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register();
  const hidden = await api.upload(me.token, { name: 'secret.txt', content: 's' });
  await api.upload(me.token, { name: 'open.txt', content: 'o' });
  await api.gql(
    'mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }',
    { id: hidden.id },
    cabinet.admin.token,
  );
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await page.getByTestId('view-gallery').click();
  const card = (name: string) =>
    page.locator(`[data-testid="gallery-item"][data-file-name="${name}"]`);
  await expect(card('secret.txt').getByTestId('status-badge')).toHaveText('Hidden');
  await expect(card('open.txt').getByTestId('status-badge')).toHaveCount(0);
  // The gallery takes the rows' place: no hidden table of the same page is made beside it.
  await expect(page.locator('table.table-cards')).toHaveCount(0);
  await expect(page.getByTestId('status-badge')).toHaveCount(1);
  await screenshot(page, 'admin-gallery-hidden');
});

/** How many lines `part` of the text inside `cell` takes (a Range over it, its boxes' tops). */
const linesOf = (cell: Locator, part: string) =>
  cell.evaluate((el, part) => {
    const nodes: Text[] = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node as Text);
    const whole = nodes.map((n) => n.data).join('');
    const from = whole.indexOf(part);
    if (from < 0) throw new Error(`no text holds ${part}`);
    // The text node and offset of a position in the joined text.
    const point = (at: number): [Text, number] => {
      for (const node of nodes) {
        if (at <= node.data.length) return [node, at];
        at -= node.data.length;
      }
      throw new Error('past the end');
    };
    const range = document.createRange();
    range.setStart(...point(from));
    range.setEnd(...point(from + part.length));
    const tops = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => r.top);
    return new Set(tops.map(Math.round)).size;
  }, part);

test('names and addresses wrap between words, not after a hyphen inside one', async ({
  page,
  api,
  cabinet,
}) => {
  const email = `samuel.okafor-lindqvist.${Date.now().toString(36)}@a-rather-long-domain.example.test`;
  const samuel = await api.register({ name: 'Samuel Okafor-Lindqvist', email });
  await api.upload(samuel.token, {
    name: 'Salary bands 2026 – final approved version for the board.xlsx',
    content: 'bands',
  });
  await api.gql(
    'mutation { createApiToken(name: "Nightly backup", scopes: [READ]) { token } }',
    {},
    samuel.token,
  );
  await signIn(page, cabinet.admin);
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.goto('/workspace');
  const uploader = page.locator('.uploader', { hasText: 'Okafor-Lindqvist' });
  await expect(uploader).toBeVisible();
  expect(await linesOf(uploader, 'Okafor-Lindqvist')).toBe(1);

  await page.goto('/admin/audit');
  const who = page.getByRole('button', { name: email });
  await expect(who).toBeVisible();
  // The address breaks before its @ if at all, never inside "okafor-lindqvist" or the domain.
  expect(await linesOf(who, 'samuel.okafor-lindqvist')).toBe(1);
  expect(await linesOf(who, 'a-rather-long-domain')).toBe(1);
  await screenshot(page, 'audit-whole-words');

  // Admin → Users: with no limit the storage reads at the row's size, not as a bar's caption.
  await page.goto('/admin/users');
  const row = page.getByRole('row', { name: /Samuel Okafor-Lindqvist/ });
  const size = (locator: Locator) => locator.evaluate((el) => getComputedStyle(el).fontSize);
  const storage = row.getByText('used, no limit');
  expect(await size(storage)).toBe(await size(row.getByRole('cell').first()));
});

test('the statistics chart is drawn at once for people who asked their system for less motion', async ({
  browser,
  api,
  cabinet,
}) => {
  const me = await api.register();
  const file = await api.upload(me.token, { name: 'counted.txt', content: 'c' });
  const got = await fetch(`${cabinet.url}/files/${file.id}/download`, {
    headers: { authorization: `Bearer ${me.token}` },
  });
  expect(got.status).toBe(200);
  await got.arrayBuffer();

  const context = await browser.newContext({ baseURL: cabinet.url, reducedMotion: 'reduce' });
  // No animation frame ever runs here, so whatever the canvas holds was drawn without one: an
  // animated chart would stay blank (checked by dropping the reduced-motion branch).
  await context.addInitScript(() => {
    window.requestAnimationFrame = () => 0;
  });
  const page = await context.newPage();
  await signIn(page, cabinet.admin);
  await page.goto(`/admin/stats?file=${file.id}`);
  await expect(page.getByTestId('stats-chart')).toHaveAttribute('aria-label', /1 in total/);
  const inked = () =>
    page
      .getByTestId('stats-chart')
      .locator('canvas')
      .evaluate((canvas: HTMLCanvasElement) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
  await expect.poll(inked).toBeGreaterThan(0);
  await context.close();
});
