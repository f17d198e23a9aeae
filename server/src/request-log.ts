import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

// The request's logger (carrying its id) for code that has no context argument, such as Yoga's
// maskError, so masked internal errors are still logged against the request that hit them.
const storage = new AsyncLocalStorage<Logger>();

export const runWithRequestLog = <T>(log: Logger, fn: () => T): T => storage.run(log, fn);

export const requestLog = (): Logger | undefined => storage.getStore();
