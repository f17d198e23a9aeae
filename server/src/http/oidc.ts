import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress } from './client-address.js';
import { readCookie } from './credentials.js';
import { sendText } from './respond.js';
import { requestOrigin } from './request-origin.js';
import type { Config } from '../config.js';
import { OidcSignInError, OIDC_LOGIN_MS } from '../modules/oidc/oidc.service.js';
import type { Services } from '../services.js';

/** Binds a started sign-on to the browser that started it (the callback must carry it back). */
const STATE_COOKIE = 'cabinet_oidc_state';

/** Where the browser goes once signed in (the sign-in page's `redirectTo`), until the callback. */
const RETURN_COOKIE = 'cabinet_oidc_return';

function stateCookie(value: string, secure: boolean, maxAgeSeconds: number, name = STATE_COOKIE) {
  // Lax: the provider's redirect back is a top-level GET, which carries Lax cookies.
  return `${name}=${value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/**
 * A path of this app to return to, or null: one leading slash (`//host` and `/\\host` leave the
 * site), printable ASCII only once decoded, at most 512 characters. Anything else goes to `/`.
 */
function appPath(value: string | null | undefined): string | null {
  if (!value || value.length > 512) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  return /^[\x21-\x7e]+$/.test(value) ? value : null;
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  for (const cookie of cookies) res.appendHeader('set-cookie', cookie);
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

/** `GET /auth/oidc/start` and `GET /auth/oidc/callback` (single sign-on, modules/oidc). */
export async function handleOidcRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  step: 'start' | 'callback',
  services: Services,
  config: Config,
): Promise<void> {
  const oidc = services.oidc;
  if (!oidc) return sendText(res, 404, 'Not found');
  if (req.method !== 'GET') return sendText(res, 405, 'Method not allowed', { allow: 'GET' });
  const origin = requestOrigin(req, config);
  const secure = origin.startsWith('https:');
  const clear = stateCookie('', secure, 0);
  const clearReturn = stateCookie('', secure, 0, RETURN_COOKIE);
  const fail = (err: unknown) => {
    if (!(err instanceof OidcSignInError)) throw err;
    redirect(res, `/login?error=oidc_${err.code}`, [clear, clearReturn]);
  };
  if (step === 'start') {
    try {
      const { url: target, state } = await oidc.start(origin);
      const back = appPath(url.searchParams.get('redirectTo'));
      const maxAge = OIDC_LOGIN_MS / 1000;
      redirect(res, target, [
        stateCookie(state, secure, maxAge),
        back ? stateCookie(encodeURIComponent(back), secure, maxAge, RETURN_COOKIE) : clearReturn,
      ]);
    } catch (err) {
      fail(err);
    }
    return;
  }
  try {
    const session = await oidc.finish(
      origin,
      url.searchParams,
      readCookie(req.headers.cookie, STATE_COOKIE) ?? null,
      {
        address: clientAddress(req, config.trustProxy),
        userAgent: req.headers['user-agent']?.slice(0, 512) || null,
      },
    );
    let back: string | null = null;
    try {
      back = appPath(decodeURIComponent(readCookie(req.headers.cookie, RETURN_COOKIE) ?? ''));
    } catch {
      // A cookie that is not percent-encoding: no way back but the start.
    }
    redirect(res, back ?? '/', [
      clear,
      clearReturn,
      services.sessions.cookie(session.token, session.expiresAt),
    ]);
  } catch (err) {
    fail(err);
  }
}
