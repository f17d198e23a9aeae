import { createHash, randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, test, type Api, type TestUser } from './fixtures';

// Every upload of the web app goes through /uploads (tus). The server is told to ask for 1 MiB
// requests (UPLOAD_CHUNK_BYTES, as behind a proxy that limits bodies), so a file of a few MiB
// takes several requests and can be stopped between them: requests are held by routing, never
// by waiting a fixed time.
const CHUNK = 1024 * 1024;
test.use({ serverEnv: { UPLOAD_CHUNK_BYTES: String(CHUNK) } });

const STORAGE_KEY = 'cabinet.unfinishedUploads.v1';
const FIND = `query ($q: String!) { files(query: $q) { totalCount edges { node { name size sha256 } } } }`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const tray = (page: Page) => page.getByTestId('upload-tray');
/** What the server holds of an upload; on a connection of its own (see signIn in fixtures.ts). */
const tusHead = (page: Page, url: string) =>
  page.request.head(url, { headers: { 'tus-resumable': '1.0.0', connection: 'close' } });
const item = (page: Page, name: string) =>
  tray(page).getByTestId('upload-item').filter({ hasText: name });

/**
 * Lets `allowed` PATCH requests to /uploads through, then holds the next ones until `release()`.
 * Records the Upload-Offset of every PATCH the page sends.
 */
async function holdPatches(page: Page, allowed: number) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { seen: 0, offsets: [] as number[], release: () => release() };
  await page.route('**/uploads/*', async (route) => {
    const request = route.request();
    if (request.method() === 'PATCH') {
      state.offsets.push(Number(request.headers()['upload-offset']));
      state.seen++;
      if (state.seen > allowed) await gate;
    }
    // The page may have aborted the request meanwhile (pause, cancel, reload).
    await route.continue().catch(() => undefined);
  });
  return state;
}

/** The upload URL the page remembers for resuming (localStorage). */
async function rememberedUrls(page: Page): Promise<string[]> {
  return page.evaluate((key) => {
    const list = JSON.parse(localStorage.getItem(key) ?? '[]') as { url: string }[];
    return list.map((p) => p.url);
  }, STORAGE_KEY);
}

async function pick(page: Page, name: string, bytes: Buffer) {
  await page.getByTestId('upload-button').click();
  await page
    .getByTestId('upload-input')
    .setInputFiles({ name, mimeType: 'application/octet-stream', buffer: bytes });
  await page.getByTestId('upload-dialog').getByRole('button', { name: 'Upload' }).click();
}

/** A new account, signed in, on its workspace. */
async function openWorkspace(page: Page, api: Api): Promise<TestUser> {
  const me = await api.register();
  await signIn(page, me);
  await page.goto('/workspace');
  return me;
}

/**
 * Uploads `bytes` as `name`, letting `allowed` PATCH requests through; resolves once the next one
 * is held (see holdPatches).
 */
async function startHeld(page: Page, name: string, bytes: Buffer, allowed: number) {
  const hold = await holdPatches(page, allowed);
  await pick(page, name, bytes);
  await expect.poll(() => hold.seen).toBe(allowed + 1);
  return hold;
}

/** The SHA-256 the server stored for the file `me` finds by `name`. */
async function storedSha256(api: Api, me: TestUser, name: string): Promise<string> {
  const found = await api.gql<{ files: { edges: { node: { sha256: string } }[] } }>(
    FIND,
    { q: name },
    me.token,
  );
  return found.data!.files.edges[0]!.node.sha256;
}

test('a 24 MiB file goes through /uploads in 1 MiB requests and arrives byte for byte', async ({
  page,
  api,
}) => {
  const me = await openWorkspace(page, api);
  const bytes = randomBytes(24 * CHUNK + 12_345);
  const offsets: number[] = [];
  let multipart = 0;
  page.on('request', (request) => {
    if (request.method() === 'PATCH' && /\/uploads\//.test(request.url()))
      offsets.push(Number(request.headers()['upload-offset']));
    if (request.url().endsWith('/graphql') && /UploadFile/.test(request.postData() ?? ''))
      multipart++;
  });
  // Held after 5 requests so the running state can be looked at however fast the machine.
  const hold = await startHeld(page, 'big.bin', bytes, 5);
  // The file's own bytes, speed and time left while it runs.
  await expect(item(page, 'big.bin').getByTestId('upload-status')).toContainText(
    /B of [\d.]+ MB · [\d.]+ [KMG]B\/s · \d+ (s|min) left/,
  );
  hold.release();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await expect(page.getByTestId('file-row').filter({ hasText: 'big.bin' })).toBeVisible();
  await expect(tray(page)).toBeHidden();

  const found = await api.gql<{
    files: { edges: { node: { size: number; sha256: string } }[] };
  }>(FIND, { q: 'big.bin' }, me.token);
  expect(found.data!.files.edges[0]!.node).toEqual({
    name: 'big.bin',
    size: bytes.length,
    sha256: sha256(bytes),
  });
  // 25 requests of at most 1 MiB, each at the offset the last one ended; none through /graphql.
  expect(offsets).toEqual(Array.from({ length: 25 }, (_, i) => i * CHUNK));
  expect(multipart).toBe(0);
  expect(await rememberedUrls(page)).toEqual([]);
});

test('pause keeps what the server stored; resume goes on from there', async ({ page, api }) => {
  const me = await openWorkspace(page, api);
  const bytes = randomBytes(8 * CHUNK + 7);
  const hold = await startHeld(page, 'paused.bin', bytes, 3);
  const paused = item(page, 'paused.bin');
  await expect(paused).toHaveAttribute('data-status', 'uploading');
  await paused.getByRole('button', { name: 'Pause upload of paused.bin' }).click();
  await expect(paused).toHaveAttribute('data-status', 'paused');
  await expect(paused.getByTestId('upload-status')).toContainText('Paused at');
  // Paused is not done: the tray stays.
  await expect(tray(page).getByRole('heading')).toHaveText('1 upload paused');
  await screenshot(page, 'upload-paused');
  // At phone width the tray sits above the bottom bar, its buttons beside the name.
  await page.setViewportSize({ width: 390, height: 800 });
  await expect(
    paused.getByRole('button', { name: 'Resume upload of paused.bin' }),
  ).toBeInViewport();
  await screenshot(page, 'upload-paused-phone');
  await page.setViewportSize({ width: 1320, height: 860 });
  hold.release();

  // The server holds the three requests that went through, and the upload is remembered.
  const [url] = await rememberedUrls(page);
  expect(url).toBeTruthy();
  const head = await tusHead(page, url!);
  expect(head.headers()['upload-offset']).toBe(String(3 * CHUNK));

  const before = hold.offsets.length;
  await paused.getByRole('button', { name: 'Resume upload of paused.bin' }).click();
  await expect(tray(page)).toBeHidden();
  expect(hold.offsets[before]).toBe(3 * CHUNK);
  expect(await storedSha256(api, me, 'paused.bin')).toBe(sha256(bytes));
});

test('offline mid-upload: the item waits for the connection and goes on by itself', async ({
  page,
  api,
}) => {
  const me = await openWorkspace(page, api);
  const bytes = randomBytes(5 * CHUNK + 3);
  const hold = await startHeld(page, 'offline.bin', bytes, 2);
  const waiting = item(page, 'offline.bin');
  await page.context().setOffline(true);
  hold.release();
  await expect(waiting).toHaveAttribute('data-status', 'paused');
  await expect(waiting.getByTestId('upload-status')).toContainText('waits for the connection');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.context().setOffline(false);
  await expect(page.getByTestId('file-row').filter({ hasText: 'offline.bin' })).toBeVisible();
  await expect(tray(page)).toBeHidden();
  expect(await storedSha256(api, me, 'offline.bin')).toBe(sha256(bytes));
});

test('cancel ends the upload on the server and leaves nothing', async ({ page, api }) => {
  const me = await openWorkspace(page, api);
  const hold = await startHeld(page, 'cancelled.bin', randomBytes(6 * CHUNK), 2);
  const cancelled = item(page, 'cancelled.bin');
  const [url] = await rememberedUrls(page);
  const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url() === url);
  await cancelled.getByRole('button', { name: 'Cancel upload of cancelled.bin' }).click();
  await expect(cancelled).toHaveAttribute('data-status', 'cancelled');
  expect((await deleted).status()).toBe(204);
  hold.release();

  const head = await tusHead(page, url!);
  expect(head.status()).toBe(404);
  const found = await api.gql<{ files: { totalCount: number } }>(
    FIND,
    { q: 'cancelled.bin' },
    me.token,
  );
  expect(found.data!.files.totalCount).toBe(0);
  expect(await rememberedUrls(page)).toEqual([]);
  await expect(tray(page).getByRole('heading')).toHaveText('1 upload cancelled');
});

test('after a reload mid-upload the same file continues from the server’s offset', async ({
  page,
  api,
}) => {
  const me = await openWorkspace(page, api);
  const bytes = randomBytes(8 * CHUNK + 99);
  await startHeld(page, 'reloaded.bin', bytes, 3);
  const [url] = await rememberedUrls(page);
  // The reload cancels the held PATCH first: unrouted while still held, it would go on to the
  // server (the browser lets held requests go once nothing intercepts) and move the offset after
  // it was read below. Every test here leaves the page before unrouting, for the same reason.
  await page.reload();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  // What the server kept: at least the three requests let through, not the whole file.
  const head = await tusHead(page, url!);
  const stored = Number(head.headers()['upload-offset']);
  expect(stored).toBeGreaterThanOrEqual(3 * CHUNK);
  expect(stored).toBeLessThan(bytes.length);

  const resume = page.getByTestId('upload-resume');
  await expect(resume).toContainText('An upload was left unfinished');
  await expect(item(page, 'reloaded.bin')).toHaveAttribute('data-status', 'interrupted');
  // What the server holds, asked again after the reload.
  await expect(item(page, 'reloaded.bin').getByTestId('upload-status')).toContainText(
    /[\d.]+ MB of [\d.]+ MB stored/,
  );
  await screenshot(page, 'upload-continue');
  const offsets: number[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PATCH' && /\/uploads\//.test(request.url()))
      offsets.push(Number(request.headers()['upload-offset']));
  });
  await expect(resume.getByRole('button', { name: 'Continue 1 unfinished upload' })).toBeVisible();
  await page
    .getByTestId('upload-resume-input')
    .setInputFiles({ name: 'reloaded.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await expect(page.getByTestId('file-row').filter({ hasText: 'reloaded.bin' })).toBeVisible();
  await expect(tray(page)).toBeHidden();
  // Nothing sent twice: the first request after the reload starts where the server stopped.
  expect(offsets[0]).toBe(stored);
  expect(offsets).toHaveLength(Math.ceil((bytes.length - stored) / CHUNK));
  expect(await storedSha256(api, me, 'reloaded.bin')).toBe(sha256(bytes));
  expect(await rememberedUrls(page)).toEqual([]);
});

test('after a reload, Discard ends the unfinished uploads on the server', async ({ page, api }) => {
  await openWorkspace(page, api);
  await startHeld(page, 'dropped.bin', randomBytes(4 * CHUNK), 1);
  const [url] = await rememberedUrls(page);
  await page.reload();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  const resume = page.getByTestId('upload-resume');
  await expect(resume).toBeVisible();
  const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url() === url);
  await resume.getByRole('button', { name: 'Discard' }).click();
  expect((await deleted).status()).toBe(204);
  await expect(tray(page)).toBeHidden();
  const head = await tusHead(page, url!);
  expect(head.status()).toBe(404);
  expect(await rememberedUrls(page)).toEqual([]);
  // Another reload offers nothing.
  await page.reload();
  await expect(page.getByTestId('upload-button')).toBeVisible();
  await expect(tray(page)).toBeHidden();
});

test('an unfinished upload the server no longer has is not offered after a reload', async ({
  page,
  api,
}) => {
  await openWorkspace(page, api);
  await startHeld(page, 'expired.bin', randomBytes(3 * CHUNK), 1);
  const [url] = await rememberedUrls(page);
  await page.goto('about:blank');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  // Ended elsewhere (as expiry would): the remembered upload points at nothing. The PATCH cut by
  // leaving the page may still hold the upload's lock on a busy machine (409): ask until it let go.
  await expect
    .poll(async () =>
      (
        await page.request.delete(url!, {
          headers: { 'tus-resumable': '1.0.0', 'x-requested-with': 'cabinet', connection: 'close' },
        })
      ).status(),
    )
    .toBe(204);
  await page.goto('/workspace');
  await expect(page.getByTestId('upload-button')).toBeVisible();
  await expect.poll(() => rememberedUrls(page)).toEqual([]);
  await expect(tray(page)).toBeHidden();
});

test('another account in the same browser is not offered someone else’s unfinished upload', async ({
  page,
  api,
}) => {
  const first = await api.register();
  const second = await api.register();
  await signIn(page, first);
  await page.goto('/workspace');
  await startHeld(page, 'mine.bin', randomBytes(3 * CHUNK), 1);
  await page.goto('about:blank');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await signIn(page, second);
  await page.goto('/workspace');
  await expect(page.getByTestId('upload-button')).toBeVisible();
  await expect(tray(page)).toBeHidden();
  await signIn(page, first);
  await page.goto('/workspace');
  await expect(item(page, 'mine.bin')).toHaveAttribute('data-status', 'interrupted');
});

test.describe('refusals', () => {
  test.use({ serverEnv: { UPLOAD_CHUNK_BYTES: String(CHUNK), MAX_UPLOAD_BYTES: String(CHUNK) } });

  test('the server’s refusals are shown in plain words on the item', async ({
    page,
    api,
    cabinet,
  }) => {
    const me = await api.register();
    await signIn(page, me);
    await page.goto('/workspace');
    // Too large: refused at creation, before any byte is sent.
    await pick(page, 'too-big.bin', randomBytes(CHUNK + 1));
    const big = item(page, 'too-big.bin');
    await expect(big).toHaveAttribute('data-status', 'error');
    await expect(big.getByTestId('upload-status')).toHaveText(
      'This file is larger than the server accepts.',
    );

    // A name the server refuses, from admin's Add files dialog (same queue, same tray).
    await signIn(page, cabinet.admin);
    await page.goto('/admin/files');
    await page.getByTestId('add-files').click();
    const dialog = page.getByTestId('add-files-dialog');
    await page
      .getByTestId('add-files-input')
      .setInputFiles({ name: 'short.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    const long = 'n'.repeat(300);
    await dialog.getByTestId('add-file-name').fill(long);
    await dialog.getByTestId('add-files-submit').click();
    await expect(dialog).toBeHidden();
    const refused = item(page, long);
    await expect(refused).toHaveAttribute('data-status', 'error');
    await expect(refused.getByTestId('upload-status')).toContainText(/at most 255/);

    // The session ended elsewhere: the upload says so.
    await page.getByTestId('add-files').click();
    await page
      .getByTestId('add-files-input')
      .setInputFiles({ name: 'late.txt', mimeType: 'text/plain', buffer: Buffer.from('late') });
    await page.context().clearCookies();
    await dialog.getByTestId('add-files-submit').click();
    const late = item(page, 'late.txt');
    await expect(late).toHaveAttribute('data-status', 'error');
    await expect(late.getByTestId('upload-status')).toHaveText(
      'Your session has ended. Please sign in again.',
    );
  });
});
