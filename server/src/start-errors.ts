import type { Config } from './config.js';

// Why the server could not start, in words an operator can act on. The failures someone meets
// when starting Cabinet (a port in use, a database that is not there, a folder it may not write)
// get one line and the setting to change instead of a stack trace; anything else is not
// explained and its stack is printed as before.

/** The error's code: Node's system errors, pg's SQLSTATE, better-sqlite3's SQLITE_*. */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function field(err: unknown, name: string): string | undefined {
  if (typeof err !== 'object' || err === null || !(name in err)) return undefined;
  const value = (err as Record<string, unknown>)[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** Where PostgreSQL was looked for (the URL without its password), for the messages. */
function postgresTarget(url: string): { server: string; database: string } {
  try {
    const u = new URL(url);
    return {
      server: `${u.hostname || 'localhost'}:${u.port || '5432'}`,
      database: `database "${decodeURIComponent(u.pathname.slice(1))}"`,
    };
  } catch {
    return { server: 'DATABASE_URL', database: 'the database of DATABASE_URL' };
  }
}

/**
 * One paragraph saying what went wrong and what to change, or null for an unknown failure. A
 * wrapped error (a migration that failed because the database could not be reached) is explained
 * by its cause.
 */
export function explainStartError(err: unknown, config: Config): string | null {
  for (let e = err, depth = 0; e !== undefined && depth < 5; depth++) {
    const why = explainOne(e, config);
    if (why) return why;
    e = typeof e === 'object' && e !== null && 'cause' in e ? e.cause : undefined;
  }
  return null;
}

function explainOne(err: unknown, config: Config): string | null {
  const code = codeOf(err);
  const address = `${config.host}:${config.port}`;
  const syscall = field(err, 'syscall');
  if (syscall === 'listen') {
    if (code === 'EADDRINUSE') {
      return (
        `${address} is already in use (is Cabinet already running?). Stop what listens there, ` +
        'or set PORT to a free port.'
      );
    }
    if (code === 'EACCES') {
      return `Not allowed to listen on ${address}: ports below 1024 need privileges. Set PORT to 1024 or above.`;
    }
    if (code === 'EADDRNOTAVAIL') {
      return `HOST ${config.host} is not an address of this machine. Set HOST (e.g. 127.0.0.1 or 0.0.0.0).`;
    }
  }
  if (config.database.kind === 'postgres') {
    const { server, database } = postgresTarget(config.database.url);
    const where = `${server}, ${database}`;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return `Cannot reach PostgreSQL at ${where} (${code}). Is it running? Check DATABASE_URL.`;
    }
    if (code === '3D000') {
      return `PostgreSQL has no ${database}: create it (createdb), or check DATABASE_URL.`;
    }
    if (code === '28P01' || code === '28000') {
      return `PostgreSQL at ${where} refused the user or password of DATABASE_URL.`;
    }
  }
  if (config.database.kind === 'sqlite' && code === 'SQLITE_CANTOPEN') {
    return (
      `Cannot open the SQLite database ${config.database.file}: its folder must exist and be ` +
      'writable by this user. Check DATABASE_URL.'
    );
  }
  const folderInTheWay = code === 'EEXIST' && syscall === 'mkdir';
  if (
    code === 'EACCES' ||
    code === 'EROFS' ||
    code === 'ENOTDIR' ||
    code === 'EPERM' ||
    folderInTheWay
  ) {
    const path = field(err, 'path') ?? field(err, 'dest');
    if (path) {
      return `Cannot write ${path} (${code}): Cabinet needs a folder it may write. Check FILES_DIR and DATABASE_URL.`;
    }
  }
  return null;
}
