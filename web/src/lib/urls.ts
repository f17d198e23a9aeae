import type { Pathname } from '$app/types';

/**
 * Only same-site paths may be a redirect target (no `//evil.example`). Typed as a Pathname so it
 * can go through `resolve()`; it may carry a search string.
 */
export function safeRedirect(target: string | null | undefined, fallback = '/workspace'): Pathname {
  if (!target || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) {
    return fallback as Pathname;
  }
  return target as Pathname;
}

/** Search string for the sign-in page: a reason to show and the way back afterwards. */
export function loginSearch(reason: 'signin' | 'expired', redirectTo: string): string {
  const params = new URLSearchParams({ redirectTo });
  if (reason === 'expired') params.set('reason', 'expired');
  return params.toString();
}
