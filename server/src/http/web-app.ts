import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sirv from 'sirv';

// The built single-page app (web/build): hashed assets cached for good, every other path falls
// back to index.html, and every answer carries the app's Content-Security-Policy.

/**
 * The app's Content-Security-Policy. Scripts only from Cabinet itself plus the inline scripts of
 * `index.html` (the theme switch and SvelteKit's start-up), each allowed by its SHA-256, read
 * from the very file served: a script that finds its way into a page some other way (a file name
 * or a Markdown file rendered as HTML by mistake) does not run. Requests, images, media and
 * workers stay on Cabinet's origin (`data:` and `blob:` for pictures the app draws itself), so a
 * Markdown file cannot load a tracking pixel either. Styles may be inline (Svelte sets style
 * attributes). No site may frame the app (clickjacking: the session cookie is SameSite=Lax,
 * which a sibling subdomain of the same site still gets); the app frames none of its own pages.
 */
export function webAppPolicy(indexHtml: string | null): string {
  const hashes = [
    ...(indexHtml ?? '').matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g),
  ].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return [
    "default-src 'self'",
    ['script-src', "'self'", ...hashes].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The powerful browser features the app uses, on its own origin only: passkeys, copying links and
 * tokens, full-screen video. Every other one named here is off, for the app and anything it
 * frames, so a page that got a script in anyway could not reach a camera, a microphone or the
 * person's location either. Only features Chromium knows are named: an unknown one is a console
 * error on every page.
 */
export const WEB_APP_PERMISSIONS = [
  'accelerometer=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'serial=()',
  'usb=()',
  'xr-spatial-tracking=()',
  'browsing-topics=()',
  'clipboard-write=(self)',
  'fullscreen=(self)',
  'publickey-credentials-create=(self)',
  'publickey-credentials-get=(self)',
].join(', ');

/** Serves the app built into `dir`. */
export function serveWebApp(dir: string) {
  let index: string | null = null;
  try {
    index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  } catch {
    // No index.html: only the files there are served, and no inline script is allowed.
  }
  const policy = webAppPolicy(index);
  return sirv(dir, {
    single: true,
    etag: true,
    gzip: false,
    setHeaders(res, pathname) {
      if (pathname.startsWith('/_app/immutable/')) {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      } else {
        res.setHeader('cache-control', 'no-cache');
      }
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'same-origin');
      res.setHeader('content-security-policy', policy);
      res.setHeader('x-frame-options', 'DENY');
      res.setHeader('permissions-policy', WEB_APP_PERMISSIONS);
      // A page of another site that Cabinet opened, or that opened Cabinet, gets no handle on
      // its window (a link followed from a shared Markdown file cannot rewrite the app's tab).
      res.setHeader('cross-origin-opener-policy', 'same-origin');
    },
  });
}
