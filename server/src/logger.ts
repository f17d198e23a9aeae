import pino from 'pino';

/** A pino logger; `destination` (default stdout) lets tests read what was logged. */
export const createLogger = (level: string, destination?: pino.DestinationStream) =>
  pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);

export type { Logger } from 'pino';
