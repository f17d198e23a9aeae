import type { OperationResult } from '@urql/core';
import { toAppError, type AppError } from './graphql/errors';

/** Whether this browser can make and use passkeys at all. */
export const passkeysSupported = typeof window !== 'undefined' && 'PublicKeyCredential' in window;

/** How a ceremony ended: the last step's data, the server's refusal, or no passkey from the browser. */
export type CeremonyOutcome<Data> = { data: Data } | { error: AppError } | { cancelled: true };

interface Steps<Start, Options, Data> {
  /** Asks the server for the ceremony's options (a JSON text). */
  start: () => PromiseLike<OperationResult<Start>>;
  options: (data: Start) => string;
  /** The browser's prompt: @simplewebauthn's startAuthentication or startRegistration. */
  prompt: (args: { optionsJSON: Options }) => Promise<unknown>;
  /** Sends the browser's answer (a JSON text) for the server to check. */
  finish: (response: string) => PromiseLike<OperationResult<Data>>;
}

const noAnswer: AppError = {
  code: 'INTERNAL_SERVER_ERROR',
  message: 'Please try again.',
  fields: {},
};

function outcome<Data>(result: OperationResult<Data>): { data: Data } | { error: AppError } {
  if (result.error) return { error: toAppError(result.error) };
  return result.data ? { data: result.data } : { error: noAnswer };
}

/**
 * One passkey ceremony, signing in or adding a passkey alike: the server's options, the
 * browser's prompt (which the person may cancel), then the server's check of the answer.
 */
export async function passkeyCeremony<Start, Options, Data>(
  steps: Steps<Start, Options, Data>,
): Promise<CeremonyOutcome<Data>> {
  const started = outcome(await steps.start());
  if ('error' in started) return started;
  let response: unknown;
  try {
    response = await steps.prompt({
      optionsJSON: JSON.parse(steps.options(started.data)) as Options,
    });
  } catch {
    return { cancelled: true };
  }
  return outcome(await steps.finish(JSON.stringify(response)));
}
