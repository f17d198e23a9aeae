import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fs from 'node:fs';
import { ForbiddenError } from './errors.js';
import type { Context, ServerContext } from './graphql/context.js';
import { createYogaServer } from './graphql/yoga.js';
import { clientAddress } from './http/client-address.js';
import { isCrossOrigin, passesCsrfCheck, readCredentials } from './http/credentials.js';
import { handleDownload } from './http/download.js';
import { FILES_ZIP_ROUTE, handleFilesZip } from './http/files-zip.js';
import { handleOidcRoute } from './http/oidc.js';
import { handlePreview, handleThumbnail } from './http/preview.js';
import { sendGraphQLError, sendText } from './http/respond.js';
import { requestOrigin } from './http/request-origin.js';
import { handleShareRoute, SHARE_ROUTE } from './http/share-routes.js';
import { serveWebApp } from './http/web-app.js';
import {
  createUploadYoga,
  isMultipart,
  refuseOverQuota,
  refuseUploadEarly,
} from './http/upload.js';
import { lingerIfBodyUnread } from './streams/linger.js';
import type { Logger } from './logger.js';
import type { Viewer } from './modules/auth/viewer.js';
import { handleUploads } from './modules/uploads/uploads.routes.js';
import { createUploadsService, type UploadsService } from './modules/uploads/uploads.service.js';
import { runWithRequestLog } from './request-log.js';
import { createServices, type Deps, type Services } from './services.js';

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
  services: Services;
  /** Resumable uploads (tus); server.ts sweeps the expired ones. */
  uploads: UploadsService;
}

/** Everything a route needs to know about the request's caller, resolved once. */
export interface RequestAuth {
  viewer: Viewer | null;
  token: string | null;
  viaCookie: boolean;
  /** The request carried `Authorization: Bearer` (an integrator's script, exempt from CSRF). */
  bearer: boolean;
}

// JSON GraphQL bodies are small; uploads never go through this instance (see files module).
const MAX_JSON_BODY = 1024 * 1024;

export function createApp(deps: Deps & { log: Logger }): App {
  const services = createServices(deps);
  const uploads = createUploadsService({
    db: deps.db,
    dialect: deps.dialect,
    storage: deps.storage,
    files: services.files,
    maxUploadBytes: deps.config.maxUploadBytes,
    expiryMs: deps.config.uploadExpiryMs,
    // A request that stalls this long is cut by the server anyway (server.ts).
    lockMs: 2 * deps.config.idleTimeoutMs,
  });
  const cors = { corsOrigins: deps.config.corsOrigins };
  const yoga = createYogaServer({ maxRequestBodySize: MAX_JSON_BODY, ...cors });
  const uploadYoga = createUploadYoga(cors);
  const web =
    deps.config.webDir && fs.existsSync(deps.config.webDir)
      ? serveWebApp(deps.config.webDir)
      : null;

  async function authenticate(req: IncomingMessage): Promise<RequestAuth> {
    const credentials = readCredentials(req);
    if (!credentials || (credentials.viaCookie && isCrossOrigin(req, deps.config))) {
      return {
        viewer: null,
        token: null,
        viaCookie: false,
        bearer: credentials?.viaCookie === false,
      };
    }
    const viewer = await services.viewerFor(credentials.token);
    return {
      viewer,
      token: credentials.token,
      viaCookie: credentials.viaCookie,
      bearer: !credentials.viaCookie,
    };
  }

  function graphqlContext(
    req: IncomingMessage,
    res: ServerResponse,
    auth: RequestAuth,
    log: Logger,
  ): Context {
    return {
      viewer: auth.viewer,
      services,
      token: auth.token,
      clientAddress: clientAddress(req, deps.config.trustProxy),
      userAgent: req.headers['user-agent']?.slice(0, 512) || null,
      origin: requestOrigin(req, deps.config),
      log,
      setCookie: (cookie) => res.appendHeader('set-cookie', cookie),
    };
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, log: Logger) {
    const auth = await authenticate(req);
    const upload = isMultipart(req);
    const refusal =
      (auth.viaCookie || (req.method === 'POST' && !auth.bearer)) && !passesCsrfCheck(req)
        ? new ForbiddenError(
            'Requests without a Bearer token must send a JSON body or the x-requested-with header.',
          )
        : upload
          ? (refuseUploadEarly(req, auth.viewer, deps.config.maxUploadBytes) ??
            (await refuseOverQuota(req, auth.viewer!, services.files)))
          : null;
    // A refused request is answered before its body is read, and an upload whose resolver fails
    // early leaves the rest unread: either way the body is not drained (see streams/linger.ts).
    if (upload || refusal) lingerIfBodyUnread(req, res);
    if (refusal) return sendGraphQLError(res, refusal);
    // A session past half its life was extended: send the cookie again so the browser keeps it.
    if (auth.viaCookie && auth.viewer?.kind === 'session' && auth.viewer.renewed && auth.token) {
      res.appendHeader(
        'set-cookie',
        services.sessions.cookie(auth.token, auth.viewer.sessionExpiresAt),
      );
    }
    const serverContext: ServerContext = { req, res, context: graphqlContext(req, res, auth, log) };
    // Multipart goes to the instance that streams files (see http/upload.ts).
    await (upload ? uploadYoga : yoga).handle(req, res, serverContext);
  }

  async function route(req: IncomingMessage, res: ServerResponse, log: Logger) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/graphql') return handleGraphQL(req, res, log);
    const download = /^\/files\/([^/]+)\/download$/.exec(url.pathname);
    if (download) {
      const auth = await authenticate(req);
      return handleDownload(req, res, download[1]!, auth.viewer, services, log);
    }
    if (url.pathname === FILES_ZIP_ROUTE) {
      const auth = await authenticate(req);
      return handleFilesZip(req, res, url, auth.viewer, services, log);
    }
    const oidc = /^\/auth\/oidc\/(start|callback)$/.exec(url.pathname);
    if (oidc) {
      const step = oidc[1] as 'start' | 'callback';
      return handleOidcRoute(req, res, url, step, services, deps.config);
    }
    const share = SHARE_ROUTE.exec(url.pathname);
    if (share) return handleShareRoute(req, res, url, share, services, log);
    const derived = /^\/files\/([^/]+)\/(thumbnail|preview)$/.exec(url.pathname);
    if (derived) {
      const auth = await authenticate(req);
      return derived[2] === 'thumbnail'
        ? handleThumbnail(req, res, derived[1]!, url, auth.viewer, services)
        : handlePreview(req, res, derived[1]!, auth.viewer, services, log);
    }
    const tus = /^\/uploads(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (tus) {
      const auth = await authenticate(req);
      return handleUploads(req, res, tus[1] ?? null, auth, {
        uploads,
        maxUploadBytes: deps.config.maxUploadBytes,
        chunkBytes: deps.config.uploadChunkBytes,
      });
    }
    if (url.pathname === '/healthz') {
      await services.health();
      return sendText(res, 200, 'ok', { 'cache-control': 'no-store' });
    }
    if (web && (req.method === 'GET' || req.method === 'HEAD')) {
      return web(req, res, () => sendText(res, 404, 'Not found'));
    }
    sendText(res, 404, 'Not found');
  }

  return {
    services,
    uploads,
    handle(req, res) {
      const requestId =
        (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID();
      const log = deps.log.child({ reqId: requestId });
      res.setHeader('x-request-id', requestId);
      void runWithRequestLog(log, () =>
        route(req, res, log).catch((err: unknown) => {
          log.error({ err, method: req.method, url: req.url }, 'request failed');
          if (!res.headersSent) sendText(res, 500, 'Internal server error');
          else res.destroy();
        }),
      );
    },
  };
}
