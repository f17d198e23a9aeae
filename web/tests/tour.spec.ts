import type { Browser, Page } from '@playwright/test';
import path from 'node:path';
import { SCREENSHOT_DIR, expect, signIn, test } from './fixtures';
import {
  accessibilityViolations,
  noHorizontalOverflow,
  noTableScroll,
  resetView,
  seed,
  stops,
  type Seeded,
  type Stop,
} from './tour';

// Every page of the app on a seeded library of its own (see tour.ts for what is in it).
test.use({ ownServer: true });

type Theme = 'light' | 'dark';

/** A page for `who`, at `width`, in `theme` from its first paint (no reload, no flash). */
async function pageFor(
  browser: Browser,
  baseURL: string,
  seeded: Seeded,
  who: Stop['as'],
  width: number,
  theme: Theme,
): Promise<Page> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width, height: width < 600 ? 844 : 860 },
    // Dialogs, toasts and the chart drawn in their final state, not photographed mid-animation.
    reducedMotion: 'reduce',
  });
  await context.addInitScript((t) => localStorage.setItem('cabinet-theme', t), theme);
  const page = await context.newPage();
  if (who !== 'anonymous') await signIn(page, who === 'user' ? seeded.maya : seeded.admin);
  return page;
}

async function walk(
  browser: Browser,
  baseURL: string,
  seeded: Seeded,
  width: number,
  theme: Theme,
  each: (page: Page, stop: Stop) => Promise<void>,
) {
  const pages = new Map<Stop['as'], Page>();
  try {
    for (const stop of stops(seeded)) {
      let page = pages.get(stop.as);
      if (!page) {
        page = await pageFor(browser, baseURL, seeded, stop.as, width, theme);
        pages.set(stop.as, page);
      }
      await test.step(`${stop.name} at ${width} px, ${theme}`, async () => {
        await stop.open(page);
        await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
        await each(page, stop);
        await resetView(page);
      });
    }
  } finally {
    for (const page of pages.values()) await page.context().close();
  }
}

// Each walk also asks axe about every stop: the phone walk in the light theme and the desktop
// walk in the dark one, so each theme's colours and each width's layout are checked once.
const CHECKED_WALKS = [
  {
    title: 'no page is wider than a phone, and axe finds nothing on one in the light theme',
    width: 390,
    theme: 'light',
    async check(page: Page, stop: Stop) {
      await noHorizontalOverflow(page, stop.name);
      await stop.onPhone?.(page);
    },
  },
  {
    title:
      'no table scrolls sideways on a desktop window, and axe finds nothing there in the dark theme',
    width: 1280,
    theme: 'dark',
    async check(page: Page, stop: Stop) {
      await noTableScroll(page, stop.name);
    },
  },
] as const;

for (const { title, width, theme, check } of CHECKED_WALKS) {
  test(title, async ({ browser, api, cabinet }) => {
    test.setTimeout(300_000);
    const seeded = await seed(api, cabinet, browser);
    // Every stop's axe findings, reported together at the end rather than at the first.
    const broken: string[] = [];
    await walk(browser, cabinet.url, seeded, width, theme, async (page, stop) => {
      await check(page, stop);
      broken.push(...(await accessibilityViolations(page, stop.name)));
    });
    expect(broken, broken.join('\n')).toEqual([]);
  });
}

// Slow (about a hundred full-page pictures): run on purpose, then look at every picture.
//   CABINET_SCREENS=1 npx playwright test -c web/playwright.config.ts tour
test('screenshots of every page, both themes, desktop and phone', async ({
  browser,
  api,
  cabinet,
}) => {
  test.skip(!process.env.CABINET_SCREENS, 'set CABINET_SCREENS=1 to take the review screenshots');
  test.setTimeout(1_200_000);
  const seeded = await seed(api, cabinet, browser);
  for (const width of [1280, 390]) {
    for (const theme of ['light', 'dark'] as const) {
      await walk(browser, cabinet.url, seeded, width, theme, async (page, stop) => {
        // Let the pointer rest away from anything hoverable, and fonts settle.
        await page.mouse.move(0, 0);
        await page.evaluate(() => document.fonts.ready);
        // Lazy thumbnails in view load after the page shows it has loaded: a photograph taken
        // before they arrive shows empty boxes that are not what people see.
        await page.waitForFunction(() =>
          [...document.images].every((img) => {
            const box = img.getBoundingClientRect();
            return img.complete || box.top >= innerHeight || box.bottom <= 0;
          }),
        );
        await page.screenshot({
          path: path.join(SCREENSHOT_DIR, 'tour', `${width}-${theme}-${stop.name}.png`),
          fullPage: !stop.overlay,
        });
      });
    }
  }
});
