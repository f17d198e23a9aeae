import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Client } from '../modules/auth/auth.service.js';
import type { Viewer } from '../modules/auth/viewer.js';
import type { Services } from '../services.js';

/** The per-request context every resolver receives. */
export interface Context {
  viewer: Viewer | null;
  services: Services;
  /** The raw bearer or cookie token this request authenticated with (sign-out needs it). */
  token: string | null;
  clientAddress: string;
  /** The User-Agent header (at most 512 characters), kept with a session started here. */
  userAgent: string | null;
  /** Where people reach this server (PUBLIC_ORIGIN or the request's), for links it hands out. */
  origin: string;
  log: Logger;
  /** Adds a Set-Cookie header to the response (sign-in and sign-out). */
  setCookie(cookie: string): void;
}

/** The client of a request, as the sessions it starts and the sign-in limits record it. */
export const clientOf = (ctx: Context): Client => ({
  address: ctx.clientAddress,
  userAgent: ctx.userAgent,
});

/** What the HTTP layer hands to Yoga for each request. */
export interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  context: Context;
}
