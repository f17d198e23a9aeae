import { Client, cacheExchange, fetchExchange, mapExchange } from '@urql/core';
import { toAppError } from './errors';

/**
 * Every request made with the session cookie must carry this header: the server refuses
 * cookie-authenticated requests, and every POST without a Bearer token, that have neither it nor
 * a JSON content type (the CSRF rule, docs/api.md). XHR uploads send it too.
 */
export const CSRF_HEADERS = { 'x-requested-with': 'cabinet' } as const;

type Handler = () => void;
let onUnauthenticated: Handler | null = null;

/** Called once by the session module: what to do when the server says the session is gone. */
export function setUnauthenticatedHandler(handler: Handler): void {
  onUnauthenticated = handler;
}

export const client = new Client({
  url: '/graphql',
  // POST only: a JSON body also satisfies the CSRF rule, and nothing is cached by the browser.
  preferGetMethod: false,
  fetchOptions: () => ({ headers: { ...CSRF_HEADERS }, credentials: 'same-origin' }),
  exchanges: [
    cacheExchange,
    mapExchange({
      onError(error) {
        if (toAppError(error).code === 'UNAUTHENTICATED') onUnauthenticated?.();
      },
    }),
    fetchExchange,
  ],
});
