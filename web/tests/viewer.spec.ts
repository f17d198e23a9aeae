import type { Page } from '@playwright/test';
import { pictureOf } from './pictures';
import { expect, screenshot, signIn, test, type Api } from './fixtures';
import { line, pdfOf } from './pdf';

// The file viewer (?file=<id>) and the gallery view of the workspace.
test.use({ ownServer: true });

const viewer = (page: Page) => page.getByTestId('file-viewer');
const viewedName = (page: Page) => page.getByTestId('viewer-name');

test.describe('hostile Markdown', () => {
  // The Markdown below carries an inline event handler. Chromium reports the policy's refusal of
  // it as soon as DOMPurify parses the text, in a document where nothing runs anyway; that one
  // refusal is expected, and checked below to be the only kind.
  test.use({ allowCspRefusals: true });

  test('opens a file from the list, arrows through it, and closes with Escape and Back', async ({
    page,
    api,
    cspRefusals,
  }) => {
    const me = await api.register({ name: 'Vera Viewer' });
    const png = await pictureOf(320, 200, { r: 20, g: 120, b: 200 });
    // Newest first: the list shows notes.md, then photo.png, then script.ts.
    await api.upload(me.token, { name: 'script.ts', content: 'const answer: number = 42;\n' });
    await api.upload(me.token, { name: 'photo.png', content: png, tags: ['pictures'] });
    await api.upload(me.token, {
      name: 'notes.md',
      content:
        '# Meeting notes\n\n<img src=x onerror="window.__xss = 1">\n\n' +
        '![tracker](https://tracker.example/pixel.gif)\n\n- first point\n',
    });
    await signIn(page, me);
    await page.goto('/workspace');
    await expect(page.getByTestId('file-row')).toHaveCount(3);

    await page.getByTestId('file-name').filter({ hasText: 'notes.md' }).click();
    await expect(viewer(page)).toBeVisible();
    await expect(page).toHaveURL(/[?&]file=\d+/);
    await expect(viewedName(page)).toHaveText('notes.md');
    // Markdown is rendered, and what it carries cannot run.
    await expect(
      page.getByTestId('viewer-text').getByRole('heading', { name: 'Meeting notes' }),
    ).toBeVisible();
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    // A picture from another site is not fetched.
    await expect(page.getByTestId('viewer-text').locator('img[alt="tracker"]')).not.toHaveAttribute(
      'src',
      /tracker/,
    );
    await expect(page.getByTestId('viewer-details')).toContainText('Vera Viewer');

    await page.keyboard.press('ArrowRight');
    await expect(viewedName(page)).toHaveText('photo.png');
    const image = page.getByTestId('viewer-image');
    await expect(image).toBeVisible();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    await expect(page.getByTestId('viewer-details')).toContainText('pictures');
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await expect(page.getByRole('button', { name: 'Fit to the window' })).toHaveText('150%');

    await page.keyboard.press('ArrowRight');
    await expect(viewedName(page)).toHaveText('script.ts');
    await expect(page.getByTestId('viewer-text').locator('.hljs-keyword').first()).toHaveText(
      'const',
    );
    // The last file: → stays.
    await page.keyboard.press('ArrowRight');
    await expect(viewedName(page)).toHaveText('script.ts');
    await page.keyboard.press('ArrowLeft');
    await expect(viewedName(page)).toHaveText('photo.png');

    await page.keyboard.press('Escape');
    await expect(viewer(page)).toHaveCount(0);
    await expect(page).not.toHaveURL(/[?&]file=/);

    // Back closes it too (arrows replaced the entry, so one Back is enough).
    await page.getByTestId('file-name').filter({ hasText: 'script.ts' }).click();
    await expect(viewedName(page)).toHaveText('script.ts');
    await page.keyboard.press('ArrowLeft');
    await expect(viewedName(page)).toHaveText('photo.png');
    await page.goBack();
    await expect(viewer(page)).toHaveCount(0);
    await expect(page.getByTestId('file-row')).toHaveCount(3);

    // Viewing counted no download.
    await expect(page.getByTestId('file-downloads').first()).toHaveText('0');
    // Nothing refused but the Markdown's handler (which never ran: __xss above).
    expect(cspRefusals.filter((r) => !/^Executing inline event handler/.test(r))).toEqual([]);
  });
});

test('the gallery shows thumbnails, is remembered, and opens the viewer', async ({ page, api }) => {
  const me = await api.register();
  const picture = (r: number) => pictureOf(600, 400, { r, g: 80, b: 40 }, 'jpeg');
  await api.upload(me.token, { name: 'plain.txt', content: 'no picture here' });
  await api.upload(me.token, { name: 'red.jpg', content: await picture(230) });
  await api.upload(me.token, { name: 'dark.jpg', content: await picture(40) });
  await signIn(page, me);
  await page.goto('/workspace');
  await expect(page.getByTestId('file-row')).toHaveCount(3);

  await page.getByTestId('view-gallery').click();
  const items = page.getByTestId('gallery-item');
  await expect(items).toHaveCount(3);
  await expect(page.getByTestId('file-table')).toHaveCount(0);
  const thumb = items.filter({ hasText: 'red.jpg' }).locator('img');
  await expect(thumb).toHaveAttribute('loading', 'lazy');
  await expect(thumb).toHaveAttribute('src', /\/thumbnail\?size=256$/);
  // The thumbnail, not the picture: 256 px on its long side.
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);
  await expect(items.filter({ hasText: 'plain.txt' }).locator('img')).toHaveCount(0);

  await page.reload();
  await expect(page.getByTestId('file-gallery')).toBeVisible();
  await expect(page.getByTestId('view-gallery')).toHaveAttribute('aria-pressed', 'true');

  await items.filter({ hasText: 'dark.jpg' }).click();
  await expect(viewedName(page)).toHaveText('dark.jpg');
  await page.keyboard.press('ArrowRight');
  await expect(viewedName(page)).toHaveText('red.jpg');
  await page.keyboard.press('Escape');
  await expect(viewer(page)).toHaveCount(0);

  await page.getByTestId('view-table').click();
  await expect(page.getByTestId('file-table')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('file-table')).toBeVisible();
});

test('admins open any file, hidden ones too, from the files admin', async ({
  page,
  api,
  cabinet,
}) => {
  const user = await api.register();
  await api.upload(user.token, { name: 'visible.txt', content: 'for everyone' });
  const secret = await api.upload(cabinet.admin.token, {
    name: 'secret.md',
    content: '# Only admins\n',
  });
  await api.gql(
    'mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }',
    { id: secret.id },
    cabinet.admin.token,
  );
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await page.getByTestId('admin-file-name').filter({ hasText: 'secret.md' }).click();
  await expect(viewedName(page)).toHaveText('secret.md');
  await expect(
    page.getByTestId('viewer-text').getByRole('heading', { name: 'Only admins' }),
  ).toBeVisible();
  await page.keyboard.press('ArrowRight');
  await expect(viewedName(page)).toHaveText('visible.txt');
  await expect(page.getByTestId('viewer-text')).toContainText('for everyone');
  await page.keyboard.press('Escape');
  await expect(viewer(page)).toHaveCount(0);
  await expect(page).toHaveURL(/\/admin\/files$/);
});

/** A new account uploads `pdf` as `name` and opens it in the viewer: its box, once drawn. */
async function openPdf(page: Page, api: Api, name: string, pdf: string) {
  const me = await api.register();
  await api.upload(me.token, { name, content: Buffer.from(pdf) });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: name }).click();
  const shown = page.getByTestId('viewer-pdf');
  await expect(shown).toHaveAttribute('data-state', 'ready');
  return shown;
}

test('shows code with its line numbers level with the lines, which do not wrap, and copies only the code', async ({
  page,
  api,
}) => {
  const me = await api.register({ name: 'Cody Lines' });
  const long = `print("${'wide '.repeat(80)}")`;
  await api.upload(me.token, { name: 'next.txt', content: 'the next file\n' });
  await api.upload(me.token, {
    name: 'tool.py',
    content: `def main():\n    """A docstring\n    over two lines."""\n    ${long}\n`,
  });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: 'tool.py' }).click();
  const code = page.getByTestId('viewer-code');
  const gutter = page.getByTestId('viewer-line-numbers');
  await expect(code).toContainText('def main');
  // Four lines, four numbers; the final newline starts no fifth.
  await expect(gutter).toHaveText('1\n2\n3\n4');
  await expect(gutter).toHaveAttribute('aria-hidden', 'true');
  // Level: the same number of lines of the same height on both sides, so the long line did not
  // wrap (it scrolls sideways instead) and each number stands beside its line.
  const boxes = await page.evaluate(() => {
    const box = (id: string) => document.querySelector(`[data-testid="${id}"]`)!;
    const lineOf = (el: Element, text: string) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const at = n.textContent!.indexOf(text);
        if (at >= 0) {
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + 1);
          return range.getBoundingClientRect();
        }
      }
      throw new Error(`${text} not found`);
    };
    const text = box('viewer-text');
    return {
      gutterHeight: box('viewer-line-numbers').getBoundingClientRect().height,
      codeHeight: box('viewer-code').getBoundingClientRect().height,
      four: lineOf(box('viewer-line-numbers'), '4').top,
      printed: lineOf(box('viewer-code'), 'print').top,
      scrolls: text.scrollWidth > text.clientWidth,
    };
  });
  expect(boxes.codeHeight).toBeCloseTo(boxes.gutterHeight, 0);
  expect(boxes.printed).toBeCloseTo(boxes.four, 0);
  expect(boxes.scrolls).toBe(true);
  // Selecting the whole view takes the code without the numbers.
  const selected = await page.evaluate(() => {
    const range = document.createRange();
    range.selectNodeContents(document.querySelector('[data-testid="viewer-text"]')!);
    const selection = window.getSelection()!;
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
  });
  expect(selected).toContain('def main():');
  expect(selected).not.toMatch(/^1\n2/);
  // The code takes the keyboard (axe: a region that scrolls must): in it, → scrolls sideways
  // instead of going to the next file; Escape still closes the viewer.
  const region = page.getByRole('region', { name: 'Contents of tool.py' });
  await region.focus();
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => region.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  await expect(viewedName(page)).toHaveText('tool.py');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('file-viewer')).toBeHidden();
});

test('numbers the lines of text that ends its lines the old Mac way (CR) or the Windows way', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'mac.txt', content: 'one\rtwo\rthree\r' });
  await api.upload(me.token, { name: 'windows.txt', content: 'one\r\ntwo\r\nthree\r\nfour' });
  await signIn(page, me);
  await page.goto('/workspace');
  for (const [name, numbers] of [
    ['mac.txt', '1\n2\n3'],
    ['windows.txt', '1\n2\n3\n4'],
  ]) {
    await page.getByTestId('file-name').filter({ hasText: name }).click();
    await expect(page.getByTestId('viewer-code')).toContainText('three');
    await expect(page.getByTestId('viewer-line-numbers')).toHaveText(numbers!);
    // As many numbers as lines drawn: the two columns are as tall as each other.
    const heights = await page.evaluate(() =>
      ['viewer-line-numbers', 'viewer-code'].map(
        (id) => document.querySelector(`[data-testid="${id}"]`)!.getBoundingClientRect().height,
      ),
    );
    expect(heights[1]).toBeCloseTo(heights[0]!, 0);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('file-viewer')).toBeHidden();
  }
});

test('a long text is shown up to its first 512 KB, without a broken last character', async ({
  page,
  api,
}) => {
  const me = await api.register();
  // One byte, then two-byte characters: the 512 KB cut falls inside the last one shown.
  await api.upload(me.token, { name: 'accents.txt', content: `a${'é'.repeat(300_000)}` });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: 'accents.txt' }).click();
  await expect(page.getByText('Showing the first 512 KB.')).toBeVisible();
  const shown = await page.getByTestId('viewer-code').textContent();
  expect(shown).toBe(`a${'é'.repeat((512 * 1024 - 2) / 2)}`);
});

test('a file of a type nothing names says so in words, with its download', async ({
  page,
  api,
}) => {
  const me = await api.register();
  await api.upload(me.token, { name: 'state.bin', content: Buffer.from([0, 159, 146, 150, 7]) });
  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: 'state.bin' }).click();
  const none = page.getByTestId('viewer-none');
  await expect(none).toContainText('Files of this type cannot be shown here.');
  await expect(none.getByTestId('viewer-download-none')).toBeVisible();
});

test('shows a PDF drawn by pdf.js, with no frame and none of its scripts run', async ({
  page,
  api,
}) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  // One red page, with a script that would mark the window if anything ran it.
  const shown = await openPdf(
    page,
    api,
    'report.pdf',
    pdfOf(['1 0 0 rg 0 0 300 400 re f'], '/OpenAction 6 0 R', [
      '<</S/JavaScript/JS(window.top.__pdf = 1; app.alert(1);)>>',
    ]),
  );
  const canvas = shown.locator('canvas[data-page="1"]');
  await expect(canvas).toBeVisible();
  // The page is painted: its middle pixel is the PDF's red.
  const pixel = await canvas.evaluate((c: HTMLCanvasElement) =>
    Array.from(c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data),
  );
  expect(pixel.slice(0, 3)).toEqual([255, 0, 0]);
  expect(page.frames()).toHaveLength(1);
  expect(await page.evaluate(() => (window as { __pdf?: number }).__pdf)).toBeUndefined();
  expect(problems).toEqual([]);
});

test('a PDF’s text lies over its page: selectable with the mouse, and read out with the page', async ({
  page,
  api,
}) => {
  const shown = await openPdf(page, api, 'budget.pdf', pdfOf([line('Quarterly budget')]));
  const sheet = shown.getByRole('group', { name: 'Page 1 of 1' });
  await expect(sheet).toContainText('Quarterly budget');
  const text = shown.getByTestId('pdf-text').getByText('Quarterly budget');
  await expect(text).toHaveCSS('color', 'rgba(0, 0, 0, 0)');
  // Over the glyphs the canvas drew: 40 pt from the left, its top at most a line above the
  // baseline, 100 pt from the top.
  const canvas = await shown.locator('canvas[data-page="1"]').boundingBox();
  const box = await text.boundingBox();
  const scale = canvas!.width / 300;
  expect(Math.abs(box!.x - (canvas!.x + 40 * scale))).toBeLessThan(3);
  expect(box!.y).toBeGreaterThan(canvas!.y + (100 - 24 - 4) * scale);
  expect(box!.y + box!.height).toBeLessThan(canvas!.y + (100 + 8) * scale);
  expect(box!.width).toBeGreaterThan(100 * scale);
  // A drag across it selects the words.
  await page.mouse.move(box!.x + 2, box!.y + box!.height / 2);
  await page.mouse.down();
  await page.mouse.move(box!.x + box!.width - 1, box!.y + box!.height / 2, { steps: 5 });
  await page.mouse.up();
  expect(await page.evaluate(() => window.getSelection()?.toString())).toContain(
    'Quarterly budget',
  );
});

test('a PDF page 800 times taller than wide is drawn coarser, not at the cost of the tab', async ({
  page,
  api,
}) => {
  // 50 × 40,000 pt, red: at the viewer's width that is ~760,000 px tall, gigabytes as pixels.
  const pdf = pdfOf(['1 0 0 rg 0 0 50 40000 re f']).replace('[0 0 300 400]', '[0 0 50 40000]');
  const shown = await openPdf(page, api, 'strip.pdf', pdf);
  const canvas = shown.locator('canvas[data-page="1"]');
  const size = await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
  expect(size[0]! * size[1]!).toBeLessThanOrEqual(2 ** 25);
  expect(Math.max(...size)).toBeLessThanOrEqual(32_767);
  const pixel = await canvas.evaluate((c: HTMLCanvasElement) =>
    Array.from(c.getContext('2d')!.getImageData(c.width / 2, 10, 1, 1).data),
  );
  expect(pixel.slice(0, 3)).toEqual([255, 0, 0]);
});

test('a PDF that declares more pages than it holds shows the ones it has, and no errors', async ({
  page,
  api,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // Pages 3 to 6 point at objects the file does not hold.
  const pdf = pdfOf([line('First'), line('Second')]).replace(
    'Kids[4 0 R 6 0 R]/Count 2',
    'Kids[4 0 R 6 0 R 96 0 R 97 0 R 98 0 R 99 0 R]/Count 6',
  );
  const shown = await openPdf(page, api, 'short.pdf', pdf);
  await expect(shown.getByRole('group', { name: 'Page 2 of 2' })).toHaveCount(0);
  const first = await shown.getByRole('group').first().getAttribute('aria-label');
  const count = Number(/^Page 1 of (\d+)$/.exec(first!)![1]);
  expect(count).toBeGreaterThan(2);
  await expect(shown.getByRole('group', { name: `Page 2 of ${count}` })).toContainText('Second');
  await shown.evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await expect(shown.getByTestId('pdf-page')).toHaveText(`Page ${count} of ${count}`);
  await expect(shown.getByRole('group', { name: `Page ${count} of ${count}` })).not.toContainText(
    'Second',
  );
  expect(errors).toEqual([]);
});

test('a long PDF opens at once and draws only the pages near the view', async ({ page, api }) => {
  const pages = Array.from({ length: 120 }, (_, i) => line(`Page ${i + 1} text`));
  const shown = await openPdf(page, api, 'manual.pdf', pdfOf(pages));
  const sheet = (n: number) => shown.getByRole('group', { name: `Page ${n} of 120` });
  // Every page has its place, and only the first few are drawn.
  await expect(shown.getByRole('group', { name: /^Page \d+ of 120$/ })).toHaveCount(120);
  await expect(sheet(1)).toContainText('Page 1 text');
  await expect(shown.locator('canvas[data-page="1"]')).toBeVisible();
  expect(await shown.locator('canvas').count()).toBeLessThan(12);
  await expect(sheet(120)).not.toContainText('text');
  await expect(shown.getByTestId('pdf-page')).toHaveText('Page 1 of 120');
  // Half-way down, the label names the page in the middle of the view.
  await shown.evaluate((box) => box.scrollTo(0, box.scrollHeight / 2));
  await expect(shown.getByTestId('pdf-page')).toHaveText(/^Page (59|60|61|62) of 120$/);
  // At the end: the last page is drawn with its text, the first has let go of its pixels, and
  // no more pages are drawn than near the view.
  await shown.evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await expect(sheet(120)).toContainText('Page 120 text');
  await expect(shown.getByTestId('pdf-page')).toHaveText('Page 120 of 120');
  await expect(shown.locator('canvas[data-page="120"]')).toBeVisible();
  await expect(shown.locator('canvas[data-page="1"]')).toHaveCount(0);
  expect(await shown.locator('canvas').count()).toBeLessThan(12);
  // Back at the top, page 1 is drawn again; its text was kept all along.
  await shown.evaluate((box) => box.scrollTo(0, 0));
  await expect(shown.locator('canvas[data-page="1"]')).toBeVisible();
  await expect(sheet(1)).toContainText('Page 1 text');
  // Read through page by page: text layers stay for the last 50 pages drawn only.
  for (let n = 3; n <= 120; n += 3) {
    await shown.evaluate((box, at) => box.scrollTo(0, box.scrollHeight * at), (n - 1) / 120);
    await expect(sheet(n)).toContainText(`Page ${n} text`);
  }
  expect(await shown.getByTestId('pdf-text').count()).toBeLessThanOrEqual(50);
  // Down to page 80, then the window becomes a phone: the pages are laid out again to fit, and
  // page 80 is still the one in view, its text over its glyphs.
  await shown.evaluate((box) => box.scrollTo(0, box.scrollHeight * (79.2 / 120)));
  await expect(shown.getByTestId('pdf-page')).toHaveText(/^Page (79|80|81) of 120$/);
  const before = await shown.getByTestId('pdf-page').textContent();
  await page.setViewportSize({ width: 390, height: 844 });
  await expect
    .poll(() => shown.evaluate((box) => box.querySelector('canvas')?.clientWidth ?? 0))
    .toBeLessThan(390);
  expect(await shown.evaluate((box) => box.scrollWidth <= box.clientWidth)).toBe(true);
  await expect(shown.getByTestId('pdf-page')).toHaveText(before!);
  const n = Number(/Page (\d+)/.exec(before!)![1]);
  await expect(sheet(n)).toContainText(`Page ${n} text`);
  const canvas = await shown.locator(`canvas[data-page="${n}"]`).boundingBox();
  const text = await sheet(n).getByText(`Page ${n} text`).boundingBox();
  expect(Math.abs(text!.x - (canvas!.x + (40 * canvas!.width) / 300))).toBeLessThan(3);
});

test('Find in a PDF reads the pages not drawn yet, goes from one to the next and marks the words', async ({
  page,
  api,
}) => {
  // Short lines: pdf.js leaves out the text that runs past the page's edge.
  const words = (n: number) => (n === 47 || n === 90 ? `Hidden fee ${n}` : `Page ${n} text`);
  const pages = Array.from({ length: 100 }, (_, i) => line(words(i + 1)));
  const shown = await openPdf(page, api, 'terms.pdf', pdfOf(pages));
  // Page 47 is not drawn, so its words are nowhere in the page: the browser's Find misses them.
  await expect(shown.getByText('hidden fee')).toHaveCount(0);
  const field = page.getByRole('searchbox', { name: 'Find in the document' });
  const status = page.getByTestId('pdf-find-status');
  // Ctrl+F within the document opens its own search, not the browser's.
  await shown.focus();
  await page.keyboard.press('Control+f');
  await expect(field).toBeFocused();
  await field.fill('hidden FEE');
  await field.press('Enter');
  await expect(status).toHaveText('Found on page 47');
  await expect(shown.getByTestId('pdf-page')).toHaveText('Page 47 of 100');
  const hit = shown.locator('[data-sheet="47"] .hit');
  await expect(hit).toHaveText('Hidden fee 47');
  await expect(hit).toBeInViewport();
  await screenshot(page, 'viewer-pdf-find');
  // Again: the next page holding them, then round to the first one.
  await field.press('Enter');
  await expect(status).toHaveText('Found on page 90');
  await expect(shown.locator('[data-sheet="90"] .hit')).toBeInViewport();
  await field.press('Enter');
  await expect(status).toHaveText('Found on page 47');
  await field.fill('nowhere at all');
  await field.press('Enter');
  await expect(status).toHaveText('Not in this document');
  await expect(shown.locator('.hit')).toHaveCount(0);
  // Round to the first page too.
  await field.fill('page 1 TEXT');
  await field.press('Enter');
  await expect(status).toHaveText('Found on page 1');
  await expect(shown.getByTestId('pdf-page')).toHaveText('Page 1 of 100');
});

test('Admin → Files has the gallery too: lazy thumbnails, remembered, filters kept', async ({
  page,
  api,
  cabinet,
}) => {
  const user = await api.register();
  const jpeg = await pictureOf(500, 300, { r: 200, g: 30, b: 90 }, 'jpeg');
  await api.upload(user.token, { name: 'beach.jpg', content: jpeg });
  await api.upload(user.token, { name: 'readme.txt', content: 'words' });
  await signIn(page, cabinet.admin);
  await page.goto('/admin/files');
  await expect(page.getByTestId('admin-file-name')).toHaveCount(2);

  await page.getByTestId('view-gallery').click();
  const items = page.getByTestId('gallery-item');
  await expect(items).toHaveCount(2);
  await expect(page.getByRole('table', { name: 'Files' })).toBeHidden();
  const thumb = items.filter({ hasText: 'beach.jpg' }).locator('img');
  await expect(thumb).toHaveAttribute('loading', 'lazy');
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);

  // The search of the page still narrows what the gallery shows.
  await page.getByRole('searchbox', { name: 'Search files' }).fill('beach');
  await page.keyboard.press('Enter');
  await expect(items).toHaveCount(1);

  await page.goto('/admin/files');
  await expect(page.getByTestId('view-gallery')).toHaveAttribute('aria-pressed', 'true');
  await items.filter({ hasText: 'readme.txt' }).click();
  await expect(viewedName(page)).toHaveText('readme.txt');
  await page.keyboard.press('Escape');
  await page.getByTestId('view-table').click();
  await expect(page.getByTestId('admin-file-name')).toHaveCount(2);
});

test('the viewer panel edits tags, lists my downloads of the file, shares and downloads', async ({
  page,
  api,
  cabinet,
}) => {
  const me = await api.register();
  const other = await api.register();
  const mine = await api.upload(me.token, {
    name: 'plan.txt',
    content: 'the plan',
    tags: ['draft'],
  });
  const theirs = await api.upload(other.token, { name: 'theirs.txt', content: 'not mine' });
  const downloadAs = async (id: string) => {
    const res = await fetch(`${cabinet.url}/files/${id}/download`, {
      headers: { authorization: `Bearer ${me.token}` },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  // One earlier download of plan.txt by me, then more of another file than one page holds: the
  // viewer asks for this file's downloads, it does not look through the newest page of all.
  await downloadAs(mine.id);
  for (let i = 0; i < 101; i++) await downloadAs(theirs.id);

  await signIn(page, me);
  await page.goto('/workspace');
  await page.getByTestId('file-name').filter({ hasText: 'plan.txt' }).click();
  await expect(viewedName(page)).toHaveText('plan.txt');
  await expect(page.getByTestId('viewer-my-downloads').locator('li')).toHaveCount(1);

  await page.getByTestId('viewer-edit-tags').click();
  const input = page.getByTestId('viewer-tags-form').getByRole('combobox');
  await input.fill('final');
  await page.keyboard.press('Enter');
  await page.getByTestId('viewer-tags-form').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('viewer-tags')).toContainText('final');
  // Shown as the chips tags are everywhere else, not as bare words run together.
  const chip = page.getByTestId('viewer-tag').filter({ hasText: 'final' });
  await expect(chip).toHaveCSS('border-radius', '999px');
  await expect(chip).not.toHaveCSS('border-top-width', '0px');
  await expect
    .poll(async () => {
      const r = await api.gql<{ file: { tags: { name: string }[] } }>(
        'query($id: ID!) { file(id: $id) { tags { name } } }',
        { id: mine.id },
        me.token,
      );
      return r.data!.file.tags.map((t) => t.name).sort();
    })
    .toEqual(['draft', 'final']);

  await page.getByTestId('viewer-share').click();
  await expect(page.getByTestId('share-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('share-dialog')).toHaveCount(0);
  await expect(viewer(page)).toBeVisible();

  await expect(page.getByTestId('viewer-downloads')).toHaveText(/^\s*1\b/);
  const download = page.waitForEvent('download');
  await page.getByTestId('viewer-download').click();
  expect((await download).suggestedFilename()).toBe('plan.txt');
  // The download shows in the panel without reopening the viewer: my history and the count.
  await expect(page.getByTestId('viewer-my-downloads').locator('li')).toHaveCount(2);
  await expect(page.getByTestId('viewer-downloads')).toHaveText(/^\s*2\b/);

  // Someone else's file: no tag editing, no Share, Download still.
  await page.keyboard.press('ArrowLeft');
  await expect(viewedName(page)).toHaveText('theirs.txt');
  await expect(page.getByTestId('viewer-edit-tags')).toHaveCount(0);
  await expect(page.getByTestId('viewer-share')).toHaveCount(0);
  await expect(page.getByTestId('viewer-download')).toBeVisible();
});
