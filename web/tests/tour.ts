/**
 * A tour of every page of the web app on a seeded library: the data (two users with files of
 * every kind the viewer shows, downloads, share links live, with a password and revoked, a file
 * in the trash, an API token, a passkey) and the list of stops, each with how to reach it and
 * what shows it has loaded. tour.spec.ts walks it on every run at phone width in the light theme
 * (overflow) and at desktop width in the dark theme (tables), asking axe about each stop in both
 * walks; with CABINET_SCREENS=1 it also photographs every stop in both themes at 1280 and 390 px
 * into artifacts/screenshots/tour/ for a person to look at.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Locator, Page } from '@playwright/test';
import { pictureOf } from './pictures';
import { expect, signIn, type Api, type CabinetServer, type TestUser } from './fixtures';

export interface Seeded {
  maya: TestUser;
  admin: TestUser;
  ids: Record<'image' | 'pdf' | 'code' | 'markdown', string>;
  /** Paths of the public share page: live (with a note), behind a password, revoked. */
  shares: { live: string; password: string; dead: string };
  resetPath: string;
}

// One red page; what the viewer draws with pdf.js.
const PDF = [
  '%PDF-1.4',
  '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj',
  '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj',
  '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 400]/Contents 4 0 R>>endobj',
  '4 0 obj<</Length 30>>stream',
  '1 0 0 rg 0 0 300 400 re f',
  'endstream endobj',
  'trailer<</Root 1 0 R>>',
  '',
].join('\n');

const SHARE = `mutation($fileIds: [ID!]!, $password: String, $note: String) {
  createShareLink(fileIds: $fileIds, password: $password, note: $note) { id url } }`;

async function ok<T>(api: Api, query: string, variables: Record<string, unknown>, token: string) {
  const result = await api.gql<T>(query, variables, token);
  expect(result.errors, query).toBeUndefined();
  return result.data as T;
}

/**
 * Registers a passkey for `user` the way a person does, on the account page with an authenticator
 * (Chromium's virtual one): the server takes no other kind of registration.
 */
async function addPasskey(browser: Browser, cabinet: CabinetServer, user: TestUser, name: string) {
  // WebAuthn refuses IP addresses as relying party ids: the same server as "localhost".
  const context = await browser.newContext({
    baseURL: cabinet.url.replace('127.0.0.1', 'localhost'),
  });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await signIn(page, user);
    await page.goto('/account');
    const card = page.getByTestId('passkeys-card');
    await card.getByLabel('Name for a new passkey').fill(name);
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    await expect(card.getByTestId('passkey-row')).toHaveCount(1);
  } finally {
    await context.close();
  }
}

export async function seed(api: Api, cabinet: CabinetServer, browser: Browser): Promise<Seeded> {
  const maya = await api.register({ name: 'Maya Chen' });
  // A long name and address: what a narrow column or card must wrap or cut cleanly.
  const sam = await api.register({
    name: 'Samuel Okafor-Lindqvist',
    email: `samuel.okafor-lindqvist.${Date.now().toString(36)}@a-rather-long-domain.example.test`,
  });
  const png = await pictureOf(640, 400, { r: 40, g: 130, b: 190 });
  const upload = (by: TestUser, name: string, content: string | Buffer, tags: string[] = []) =>
    api.upload(by.token, { name, content, tags }).then((f) => f.id);

  const code = await upload(
    maya,
    'resize.ts',
    'export function resize(width: number, height: number): number {\n  return width * height;\n}\n',
    ['code'],
  );
  const markdown = await upload(
    maya,
    'Onboarding checklist.md',
    '# Welcome\n\n- Laptop\n- Badge\n- **Accounts**\n',
    ['hr'],
  );
  const pdf = await upload(maya, 'Board deck Q3.pdf', Buffer.from(PDF), ['finance', 'q3', 'board']);
  await upload(sam, 'Salary bands 2026 – final approved version for the board.xlsx', 'x', [
    'finance',
    'confidential',
  ]);
  await upload(sam, 'logo-final.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>', [
    'design',
    'brand',
  ]);
  const image = await upload(maya, 'team-offsite.png', png, ['photos', 'events']);
  const gone = await upload(maya, 'old draft.txt', 'draft');
  await ok(api, 'mutation($id: ID!) { deleteFile(id: $id) }', { id: gone }, maya.token);

  for (const id of [image, pdf, image]) {
    const response = await fetch(`${cabinet.url}/files/${id}/download`, {
      headers: { authorization: `Bearer ${maya.token}` },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
  await ok(
    api,
    'mutation { createApiToken(name: "Nightly backup", scopes: [READ, DOWNLOAD]) { token } }',
    {},
    maya.token,
  );

  type Created = { createShareLink: { id: string; url: string } };
  const share = async (variables: Record<string, unknown>) =>
    (await ok<Created>(api, SHARE, variables, maya.token)).createShareLink;
  const live = await share({ fileIds: [image, pdf, code], note: 'The offsite photos and deck.' });
  const locked = await share({ fileIds: [markdown], password: 'open sesame' });
  const dead = await share({ fileIds: [code] });
  await ok(api, 'mutation($id: ID!) { revokeShareLink(id: $id) }', { id: dead.id }, maya.token);

  await addPasskey(browser, cabinet, maya, 'Work laptop');

  const reset = await ok<{ createPasswordResetLink: string }>(
    api,
    'mutation($id: ID!) { createPasswordResetLink(userId: $id) }',
    { id: sam.id },
    cabinet.admin.token,
  );
  const path = (url: string) => new URL(url).pathname + new URL(url).hash;
  return {
    maya,
    admin: cabinet.admin,
    ids: { image, pdf, code, markdown },
    shares: { live: path(live.url), password: path(locked.url), dead: path(dead.url) },
    resetPath: path(reset.createPasswordResetLink),
  };
}

export interface Stop {
  name: string;
  /** Who looks at it: nobody signed in, the user, or the admin. */
  as: 'anonymous' | 'user' | 'admin';
  /** Brings the page to the state to look at; resolves once it shows. */
  open(page: Page): Promise<void>;
  /** A dialog or overlay over the page: pictured as the window shows it, not the whole page. */
  overlay?: boolean;
  /** What else must hold at phone width. */
  onPhone?(page: Page): Promise<void>;
}

function visit(path: string, ready: (page: Page) => Locator) {
  return async (page: Page) => {
    await page.goto(path);
    await expect(ready(page)).toBeVisible();
  };
}

export function stops(s: Seeded): Stop[] {
  const viewer = (name: string, id: string, ready: (page: Page) => Promise<void>): Stop => ({
    name: `viewer-${name}`,
    as: 'user',
    overlay: true,
    async open(page) {
      await page.goto(`/workspace?file=${id}`);
      await expect(page.getByTestId('file-viewer')).toBeVisible();
      await ready(page);
    },
  });
  /** A dialog opened over a page: pictured as the window shows it, checked with the page. */
  const dialog = (
    name: string,
    as: Stop['as'],
    path: string,
    testid: string,
    openIt: (page: Page) => Promise<void>,
  ): Stop => ({
    name: `dialog-${name}`,
    as,
    overlay: true,
    async open(page) {
      await page.goto(path);
      await openIt(page);
      await expect(page.getByTestId(testid)).toBeVisible();
    },
  });
  return [
    {
      name: 'login',
      as: 'anonymous',
      open: visit('/login', (p) => p.locator('input[type=password]')),
    },
    {
      name: 'register',
      as: 'anonymous',
      open: visit('/register', (p) => p.locator('input[type=password]').first()),
    },
    {
      name: 'reset-password',
      as: 'anonymous',
      open: visit(s.resetPath, (p) => p.locator('input[type=password]').first()),
    },
    {
      name: 'share-public',
      as: 'anonymous',
      open: visit(s.shares.live, (p) => p.getByTestId('share-file').first()),
    },
    {
      name: 'share-password',
      as: 'anonymous',
      open: visit(s.shares.password, (p) => p.getByTestId('share-password')),
    },
    {
      name: 'share-dead',
      as: 'anonymous',
      open: visit(s.shares.dead, (p) => p.getByTestId('share-gone')),
    },
    {
      name: 'file-unavailable',
      as: 'anonymous',
      open: visit('/file-unavailable?status=404', (p) => p.getByRole('heading', { level: 1 })),
    },
    {
      name: 'admins-only',
      as: 'user',
      open: visit('/admin', (p) => p.getByText('Admins only').first()),
    },
    {
      name: 'workspace',
      as: 'user',
      open: visit('/workspace', (p) => p.getByTestId('file-row').first()),
    },
    {
      name: 'workspace-gallery',
      as: 'user',
      async open(page) {
        await page.goto('/workspace');
        await page.getByTestId('view-gallery').click();
        await expect(page.getByTestId('gallery-item').first()).toBeVisible();
      },
    },
    viewer('image', s.ids.image, async (page) => {
      const image = page.getByTestId('viewer-image');
      await expect.poll(() => image.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
    }),
    viewer('pdf', s.ids.pdf, async (page) => {
      await expect(page.getByTestId('viewer-pdf')).toHaveAttribute('data-state', 'ready');
    }),
    viewer('code', s.ids.code, async (page) => {
      await expect(page.getByTestId('viewer-text').locator('.hljs-keyword').first()).toBeVisible();
    }),
    viewer('markdown', s.ids.markdown, async (page) => {
      await expect(page.getByTestId('viewer-text').getByRole('heading')).toBeVisible();
    }),
    dialog('upload', 'user', '/workspace', 'duplicate-notice', async (page) => {
      await page.getByTestId('upload-button').click();
      // One name the library has already, so that the dialog's notice shows too.
      await page.getByTestId('upload-input').setInputFiles([
        { name: 'resize.ts', mimeType: 'text/plain', buffer: Buffer.from('new') },
        { name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from('a') },
      ]);
    }),
    dialog('edit-file', 'user', '/workspace', 'edit-file-dialog', async (page) => {
      await page.getByRole('button', { name: 'Edit Board deck Q3.pdf' }).click();
    }),
    dialog('share', 'user', '/workspace', 'share-dialog', async (page) => {
      await page.getByRole('button', { name: 'Share Board deck Q3.pdf' }).click();
    }),
    {
      name: 'history',
      as: 'user',
      open: visit('/history', (p) => p.getByTestId('download-row').first()),
    },
    {
      name: 'shares',
      as: 'user',
      open: visit('/shares', (p) => p.getByTestId('share-link-row').first()),
    },
    {
      name: 'account',
      as: 'user',
      async open(page) {
        await page.goto('/account');
        await expect(page.getByTestId('token-row').first()).toBeVisible();
        await expect(page.getByTestId('session-row').first()).toBeVisible();
        await expect(page.getByTestId('passkey-row')).toContainText('Work laptop');
      },
    },
    {
      name: 'account-totp-setup',
      as: 'user',
      async open(page) {
        await page.goto('/account');
        await page.getByRole('button', { name: 'Set up two-factor' }).click();
        await expect(page.getByTestId('totp-secret')).toBeVisible();
        await page.getByTestId('two-factor-card').scrollIntoViewIfNeeded();
      },
      // The steps go under the QR code instead of a column a few words wide beside it.
      async onPhone(page) {
        const qr = await page.getByTestId('totp-qr').boundingBox();
        const key = await page.getByTestId('totp-secret').boundingBox();
        expect(key!.y).toBeGreaterThanOrEqual(qr!.y + qr!.height);
      },
    },
    dialog('revoke-token', 'user', '/account', 'confirm-dialog', async (page) => {
      await page.getByRole('button', { name: 'Revoke token Nightly backup' }).click();
    }),
    { name: 'trash', as: 'user', open: visit('/trash', (p) => p.getByTestId('trash-row').first()) },
    {
      name: 'admin-users',
      as: 'admin',
      open: visit('/admin/users', (p) => p.getByTestId('users-row').first()),
    },
    {
      name: 'admin-files',
      as: 'admin',
      open: visit('/admin/files', (p) => p.getByTestId('files-row').first()),
    },
    {
      name: 'admin-files-gallery',
      as: 'admin',
      async open(page) {
        await page.goto('/admin/files');
        await page.getByTestId('view-gallery').click();
        await expect(page.getByTestId('gallery-item').first()).toBeVisible();
      },
    },
    {
      name: 'admin-tags',
      as: 'admin',
      open: visit('/admin/tags', (p) => p.getByTestId('tags-row').first()),
    },
    dialog('new-tag', 'admin', '/admin/tags', 'tag-dialog', async (page) => {
      await page.getByTestId('new-tag').click();
    }),
    dialog('file-history', 'admin', '/admin/files', 'file-history', async (page) => {
      const row = page.getByTestId('files-row').filter({ hasText: 'team-offsite.png' });
      await row.getByTestId('download-count').click();
      await expect(page.getByTestId('history-row')).toHaveCount(2);
      // The pager at its foot keeps the drawer's inset, as the rows above it do.
      // Both edges are read in one frame: the drawer slides in, so two reads apart could see it
      // at two places.
      const inset = await page
        .getByTestId('file-history')
        .evaluate(
          (drawer) =>
            drawer.querySelector('[data-testid="table-totals"]')!.getBoundingClientRect().left -
            drawer.getBoundingClientRect().left,
        );
      expect(inset).toBeGreaterThanOrEqual(16);
    }),
    dialog('add-files', 'admin', '/admin/files', 'add-files-dialog', async (page) => {
      await page.getByRole('button', { name: 'Add files' }).first().click();
    }),
    {
      name: 'admin-links',
      as: 'admin',
      open: visit('/admin/links', (p) => p.getByTestId('links-row').first()),
    },
    {
      name: 'admin-audit',
      as: 'admin',
      open: visit('/admin/audit', (p) => p.getByTestId('audit-row').first()),
    },
    {
      name: 'admin-stats',
      as: 'admin',
      open: visit('/admin/stats', (p) => p.getByTestId('stats-chart')),
    },
  ];
}

/**
 * Fails when a table's box scrolls sideways on a desktop window: its right-hand columns (often the
 * row's actions) would sit out of sight, behind a scrollbar nobody looks for.
 */
export async function noTableScroll(page: Page, what: string) {
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('.scroll')]
      .filter((el) => el.querySelector('table') && el.scrollWidth > el.clientWidth + 1)
      .map((el) => {
        const heads = [...el.querySelectorAll('th')].map((th) => (th.textContent ?? '').trim());
        return `${el.scrollWidth - el.clientWidth} px too wide (${heads.join(', ')})`;
      }),
  );
  expect(wide, `tables scrolling sideways on ${what}`).toEqual([]);
}

/** Puts the table view back after a gallery stop (the choice is remembered per browser). */
export async function resetView(page: Page) {
  await page.evaluate(() => {
    for (const key of Object.keys(localStorage))
      if (/view/i.test(key)) localStorage.removeItem(key);
  });
}

/**
 * Fails when the page is wider than the window, naming the first elements that stick out, and
 * when a control (link, button, field) lies partly outside the window: cut off by a box that
 * clips or scrolls it sideways, which the page's own width does not show.
 */
export async function noHorizontalOverflow(page: Page, what: string) {
  const { overflow, culprits, cut } = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .slice(0, 5)
      .map(name);
    const cut = [...document.querySelectorAll('a[href], button, input, select, textarea')]
      .filter((el) => {
        const box = el.getBoundingClientRect();
        // Visually hidden helpers (1 px, clipped) and hidden controls do not count.
        if (box.width <= 2 || box.height <= 2) return false;
        if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
        return box.left < -1 || box.right > width + 1;
      })
      .slice(0, 5)
      .map(name);
    return { overflow: document.documentElement.scrollWidth - width, culprits, cut };
  });
  expect(overflow, `horizontal overflow on ${what}: ${culprits.join(', ')}`).toBeLessThanOrEqual(0);
  expect(cut, `controls cut off at the side on ${what}`).toEqual([]);
}

/**
 * What axe (Deque's accessibility engine) finds against WCAG 2.2 A and AA and its own best
 * practices (one banner, landmarks told apart, headings in order) on the page as it is, one line
 * per rule broken with the elements that break it; empty when it finds nothing.
 */
export async function accessibilityViolations(page: Page, what: string): Promise<string[]> {
  // From the top: a stop that scrolled down (a card opened further down the page) would leave
  // the sticky header lying over whatever sits under it then, which axe counts as a touch
  // target too small to hit.
  await page.evaluate(() => window.scrollTo(0, 0));
  // Legacy mode runs axe in the page itself; the default runs it per frame and then finishes in a
  // blank page of its own, which doubled the time of a walk (about 1 s more a stop). The app has
  // no frames from other origins, the one thing only the default would reach.
  const { violations } = await new AxeBuilder({ page })
    .setLegacyMode()
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return violations.map(
    (v) =>
      `${what}: ${v.id} (${v.impact}), ${v.help}\n` +
      v.nodes
        .map((n) => `  ${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ')}`)
        .join('\n'),
  );
}
