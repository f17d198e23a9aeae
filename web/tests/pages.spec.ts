import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, test, type Api, type TestUser } from './fixtures';

// A small, realistic library on a server of its own, then every user page in both themes and at
// phone width. Screenshots land in artifacts/screenshots/ for a human to look at.
test.use({ ownServer: true });

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

async function seed(api: Api, base: string): Promise<TestUser> {
  const maya = await api.register({ name: 'Maya Chen' });
  const sam = await api.register({ name: 'Sam Okafor' });
  const files = [
    {
      by: sam,
      name: 'Brand guidelines 2025.pdf',
      content: '%PDF-1.4 guidelines',
      tags: ['design', 'brand'],
    },
    { by: maya, name: 'Q3 revenue.csv', content: 'month,revenue\n', tags: ['finance', 'q3'] },
    { by: sam, name: 'team-offsite.png', content: PNG, tags: ['photos', 'events'] },
    { by: maya, name: 'Onboarding checklist.md', content: '# Welcome', tags: ['hr'] },
    {
      by: sam,
      name: 'logo-final.svg',
      content: '<svg xmlns="http://www.w3.org/2000/svg"/>',
      tags: ['design', 'brand'],
    },
    {
      by: maya,
      name: 'Board deck Q3.pdf',
      content: '%PDF-1.4 deck',
      tags: ['finance', 'q3', 'board'],
    },
  ];
  const ids: string[] = [];
  for (const f of files) {
    const file = await api.upload(f.by.token, { name: f.name, content: f.content, tags: f.tags });
    ids.push(file.id);
  }
  for (const id of [ids[0], ids[2], ids[0]]) {
    const response = await fetch(`${base}/files/${id}/download`, {
      headers: { authorization: `Bearer ${maya.token}` },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
  await api.gql(
    'mutation { createApiToken(name: "Nightly backup", scopes: [READ, DOWNLOAD]) { token } }',
    {},
    maya.token,
  );
  return maya;
}

async function setTheme(page: Page, theme: 'light' | 'dark') {
  await page.evaluate((t) => localStorage.setItem('cabinet-theme', t), theme);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

async function noHorizontalScroll(page: Page) {
  const { overflow, culprits } = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
    return { overflow: document.documentElement.scrollWidth - width, culprits };
  });
  expect(
    overflow,
    `horizontal overflow on ${page.url()}: ${culprits.join(', ')}`,
  ).toBeLessThanOrEqual(0);
}

test('every user page, in both themes and at phone width', async ({ page, api, cabinet }) => {
  // Eighteen full-page screenshots: CI's slower machine needed more than the default 45 s.
  test.setTimeout(300_000);
  const maya = await seed(api, cabinet.url);
  await signIn(page, maya);
  const pages = [
    { path: '/history', name: 'history', ready: page.getByTestId('download-row').first() },
    { path: '/account', name: 'account', ready: page.getByTestId('token-row').first() },
    { path: '/admin', name: 'admins-only', ready: page.getByText('Admins only').first() },
    { path: '/workspace', name: 'workspace', ready: page.getByTestId('file-row').first() },
  ];
  await page.goto('/account');
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    for (const p of pages) {
      await page.goto(p.path);
      await expect(p.ready).toBeVisible();
      await screenshot(page, `page-${p.name}`);
    }
    await page.goto('/workspace');
    await page.getByTestId('tag-panel').locator('[data-tag="design"]').click();
    await page.getByTestId('tag-panel').locator('[data-tag="finance"]').click();
    await page.getByRole('group', { name: 'Files must carry' }).getByText('Any tag').click();
    await expect(page.getByTestId('file-row')).toHaveCount(4);
    await page.getByLabel('Search files and tags').fill('q3');
    await expect(page.getByTestId('file-row')).toHaveCount(2);
    await screenshot(page, 'page-workspace-filtered');
  }

  await page.setViewportSize({ width: 390, height: 844 });
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    for (const p of pages) {
      await page.goto(p.path);
      await expect(p.ready).toBeVisible();
      await noHorizontalScroll(page);
      await screenshot(page, `phone-${p.name}`);
    }
  }
  await page.context().clearCookies();
  for (const path of ['/login', '/register']) {
    await page.goto(path);
    await noHorizontalScroll(page);
    await screenshot(page, `phone${path.replace('/', '-')}`);
  }
});
