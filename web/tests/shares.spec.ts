import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, test } from './fixtures';
import { line, pdfOf } from './pdf';

// A server of its own: the admin's file list then holds exactly this test's file.
test.use({ ownServer: true });

// Share links end to end: the Share dialog in the workspace, the public page a recipient opens
// without an account (files, per-file and ZIP downloads, the password form, a link that stopped),
// and My links with revoke. Both themes and phone width for the public page.

const CREATE = `mutation($fileIds: [ID!]!, $password: String, $note: String, $maxDownloads: Int) {
  createShareLink(fileIds: $fileIds, password: $password, note: $note, maxDownloads: $maxDownloads) { id url } }`;

/** A 64 × 48 PNG: something a thumbnail can be made of. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAfElEQVRoge2SAQkAQBCDFsf+KYz1McbxAwPoWITTpG7gAqiv6C7EXVI3cAHUV3QX4i6pG7gA6iu6C3GX1A1cAPUV3YW4S+oGLoD6iu5C3CV1AxdAfUV3Ie6SuoELoL6iuxB3Sd3ABVBf0V2Iu6Ru4AKor+guxF1SN/DzgAePoCDEhz0qaQAAAABJRU5ErkJggg==',
  'base64',
);

async function setTheme(page: Page, theme: 'light' | 'dark') {
  await page.evaluate((t) => localStorage.setItem('cabinet-theme', t), theme);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

test('share a file from the workspace, copy the link, and revoke it in My links', async ({
  page,
  api,
  cabinet,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const me = await api.register({ name: 'Sam Sharer' });
  await api.upload(me.token, { name: 'contract.pdf', content: '%PDF-1.4 contract' });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByRole('button', { name: 'Share contract.pdf' }).click();
  const dialog = page.getByTestId('share-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByText('1 day', { exact: true }).click();
  // The legend's text starts where the other labels' text starts (read in one frame: the
  // dialog may still be settling).
  const edges = await dialog.evaluate((d) =>
    ['legend', 'label[for="share-note"]'].map((s) => {
      const text = document.createRange();
      text.selectNodeContents(d.querySelector(s)!);
      return text.getBoundingClientRect().left;
    }),
  );
  expect(edges[0]).toBe(edges[1]);
  const limitField = dialog.getByLabel('Download limit (optional)');
  await expect(limitField).toHaveAccessibleDescription(/can open pictures, PDFs, text and video/);
  await limitField.fill('3');
  await expect(limitField).toHaveAccessibleDescription(/see thumbnails only/);
  await dialog.getByLabel('Note for the recipient (optional)').fill('Signed copy, as promised');
  await dialog.getByTestId('share-create').click();
  await expect(dialog.getByTestId('share-created')).toBeVisible();
  const url = await dialog.locator('#share-url').inputValue();
  expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{32}$/);
  await expect(dialog.getByRole('img', { name: 'QR code of the link' })).toBeVisible();
  await dialog.getByTestId('share-copy').click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  await dialog.getByRole('button', { name: 'Done' }).click();

  // The recipient, with no account, in a context of its own.
  const stranger = await page.context().browser()!.newContext();
  const other = await stranger.newPage();
  await other.goto(url);
  await expect(other.getByTestId('share-page')).toContainText('Sam Sharer shared 1 file');
  await expect(other.getByTestId('share-note')).toHaveText('Signed copy, as promised');
  await expect(other.getByTestId('share-page')).toContainText('3 downloads left');
  const [download] = await Promise.all([
    other.waitForEvent('download'),
    other.getByRole('link', { name: 'Download contract.pdf' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('contract.pdf');

  await page.goto('/shares');
  const row = page.getByTestId('share-link-row');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('share-link-downloads')).toHaveText('1 / 3');
  // The stranger opened the page once (the download is not a second view).
  await expect(row.getByTestId('share-link-views')).toHaveText('1');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Revoke link' }).click();
  await expect(row.getByTestId('share-link-state')).toHaveText('Revoked');

  await other.reload();
  await expect(other.getByTestId('share-gone')).toBeVisible();
  await expect(other.getByTestId('share-page')).not.toContainText('contract.pdf');
  await stranger.close();

  // The admin sees the download in the file's history as one made through a link.
  const adminContext = await page.context().browser()!.newContext({ baseURL: api.url });
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, cabinet.admin);
  await adminPage.goto('/admin/files');
  const files = adminPage.getByTestId('files-row');
  await expect(files).toHaveCount(1);
  await files.first().getByTestId('download-count').click();
  const history = adminPage.getByTestId('file-history');
  await expect(history.getByTestId('history-via-link')).toHaveText('Through a share link');
  await expect(history.getByTestId('history-row')).toContainText('by Sam Sharer');
  await adminContext.close();
});

test('the public page: several files, ZIP, password, both themes and phone width', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Petra Private' });
  const a = await api.upload(me.token, { name: 'Bericht Ä.txt', content: 'alpha' });
  const b = await api.upload(me.token, { name: 'photo.png', content: PNG, type: 'image/png' });
  const c = await api.upload(me.token, { name: 'second.png', content: PNG, type: 'image/png' });
  const d = await api.upload(me.token, {
    name: 'minutes.pdf',
    content: Buffer.from(pdfOf([line('Minutes of the meeting')])),
  });
  const created = await api.gql<{ createShareLink: { url: string } }>(
    CREATE,
    { fileIds: [a.id, b.id, c.id, d.id], password: 'letmein!', note: 'Four files for you' },
    me.token,
  );
  const url = created.data!.createShareLink.url;

  await page.goto(url);
  const form = page.getByTestId('share-password');
  await expect(form).toBeVisible();
  await expect(page.getByTestId('share-page')).not.toContainText('Bericht');
  await form.getByRole('textbox', { name: 'Password' }).fill('wrong one');
  await form.getByRole('button', { name: 'Open' }).click();
  await expect(form).toContainText('That password is not right');
  await form.getByRole('textbox', { name: 'Password' }).fill('letmein!');
  await form.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByTestId('share-file')).toHaveCount(4);
  await expect(page.getByTestId('share-page')).toContainText('Petra Private shared 4 files');
  // The thumbnails come through the link (with the password's proof); the text file keeps its
  // icon.
  const thumb = page.getByTestId('share-thumb').first();
  await expect(
    page.getByTestId('share-file').filter({ hasText: 'Bericht' }).getByTestId('share-thumb'),
  ).toHaveCount(0);
  await expect(thumb).toHaveAttribute('src', /\/files\/\d+\/thumbnail\?size=256&key=/);
  await expect
    .poll(() => thumb.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)))
    .toBeGreaterThan(0);
  // A link without a download limit shows each file itself, through its preview route: the
  // picture whole, ← and → go through the files, the text and the PDF shown in place; Escape
  // closes and gives the focus back; looking is not downloading.
  const look = page.getByRole('button', { name: 'Look at photo.png' });
  await look.click();
  const preview = page.getByTestId('share-preview');
  await expect(preview.getByRole('heading', { name: 'photo.png' })).toBeVisible();
  const large = preview.getByTestId('viewer-image');
  await expect(large).toHaveAttribute('src', /\/files\/\d+\/preview\?key=/);
  // The original's own pixels, loaded.
  await expect
    .poll(() => large.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)))
    .toBe(64);
  await expect(preview).toContainText('2 / 4');
  await expect(preview).not.toContainText('A preview. Download the file for the original.');
  await screenshot(page, 'share-preview');
  await page.keyboard.press('ArrowRight');
  await expect(preview.getByRole('heading', { name: 'second.png' })).toBeVisible();
  await page.keyboard.press('ArrowRight');
  await expect(preview.getByRole('heading', { name: 'minutes.pdf' })).toBeVisible();
  const pdf = preview.getByTestId('viewer-pdf');
  await expect(pdf).toHaveAttribute('data-state', 'ready');
  await expect(pdf).toContainText('Minutes of the meeting');
  expect((await pdf.boundingBox())!.height).toBeGreaterThan(200);
  await screenshot(page, 'share-preview-pdf');
  // On a phone the pages are laid out to the dialog's width: nothing to scroll sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  await expect
    .poll(() => pdf.evaluate((box) => box.scrollWidth - box.clientWidth))
    .toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1320, height: 860 });
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(preview.getByRole('heading', { name: 'Bericht Ä.txt' })).toBeVisible();
  await expect(preview).toContainText('alpha');
  await page.keyboard.press('ArrowRight');
  await expect(preview.getByRole('heading', { name: 'photo.png' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(preview).toBeHidden();
  await expect(look).toBeFocused();
  const counted = await api.gql<{ file: { downloadCount: number } }>(
    `query($id: ID!) { file(id: $id) { downloadCount } }`,
    { id: b.id },
    me.token,
  );
  expect(counted.data!.file.downloadCount).toBe(0);

  const [zip] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Download all/ }).click(),
  ]);
  expect(zip.suggestedFilename()).toBe('shared-files.zip');
  const [single] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download Bericht Ä.txt' }).click(),
  ]);
  expect(single.suggestedFilename()).toBe('Bericht Ä.txt');

  for (const theme of ['light', 'dark'] as const) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await setTheme(page, theme);
      // A reload asks again: the password form, then the files.
      await page
        .getByTestId('share-password')
        .getByRole('textbox', { name: 'Password' })
        .fill('letmein!');
      await page.getByRole('button', { name: 'Open' }).click();
      await expect(page.getByTestId('share-file')).toHaveCount(4);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `no sideways scroll at ${width}px`).toBeLessThanOrEqual(0);
      await screenshot(page, `share-page-${width}`);
    }
  }

  // A link that counts its downloads shows the large thumbnail only: a preview would hand the
  // file over uncounted.
  const limited = await api.gql<{ createShareLink: { url: string } }>(
    CREATE,
    { fileIds: [b.id, d.id], maxDownloads: 5 },
    me.token,
  );
  await page.goto(limited.data!.createShareLink.url);
  await page.getByRole('button', { name: 'Look at photo.png' }).click();
  const thumbnailOnly = page.getByTestId('share-preview');
  await expect(thumbnailOnly.getByRole('img', { name: 'Preview of photo.png' })).toHaveAttribute(
    'src',
    /\/files\/\d+\/thumbnail\?size=1024$/,
  );
  await expect(thumbnailOnly).toContainText('A preview. Download the file for the original.');
  await expect(thumbnailOnly.getByTestId('viewer-image')).toHaveCount(0);
});
