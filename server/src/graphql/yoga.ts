import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { AppError } from '../errors.js';
import { requestLog } from '../request-log.js';
import type { Context, ServerContext } from './context.js';
import { singleUseUploads } from './single-use-uploads.js';
import { schema } from './schema.js';

/**
 * Expected failures (AppError) keep their message and code; GraphQL's own errors (parse,
 * validation) pass through; everything else is logged with the request id and masked.
 */
export function maskError(error: unknown): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof AppError) {
    const located = error instanceof GraphQLError ? error : undefined;
    return new GraphQLError(original.message, {
      nodes: located?.nodes,
      source: located?.source,
      positions: located?.positions,
      path: located?.path,
      extensions: original.extensions(),
    });
  }
  if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
    return withContractCode(original instanceof GraphQLError ? original : error, error);
  }
  requestLog()?.error({ err: original ?? error }, 'unexpected error');
  return new GraphQLError('Something went wrong on our side. It has been logged.', {
    ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/**
 * The codes GraphQL Yoga and graphql-js give request errors, as the API's codes. Yoga answers a
 * malformed request (bad JSON, no query, a GET mutation, a batch) with BAD_REQUEST and an unknown
 * operation name with OPERATION_RESOLUTION_FAILURE; graphql-js refuses variables of the wrong
 * type with no code at all. Each is the caller's bad input.
 */
const CONTRACT_CODES: Record<string, string> = {
  BAD_REQUEST: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'BAD_USER_INPUT',
  REQUEST_ENTITY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
};

const VARIABLE_ERROR = /^(Variable "\$|Too many errors processing variables)/;

/**
 * GraphQL's own errors pass through with their code, mapped to the API's; their extensions keep
 * only what clients may see (Yoga would echo the start of a malformed body as `originalError`).
 */
function withContractCode(error: GraphQLError, outer: GraphQLError): GraphQLError {
  const code = error.extensions.code ?? outer.extensions.code;
  const mapped =
    typeof code === 'string'
      ? (CONTRACT_CODES[code] ?? code)
      : VARIABLE_ERROR.test(outer.message)
        ? 'BAD_USER_INPUT'
        : undefined;
  if (mapped === code && !('originalError' in error.extensions)) return error;
  const { originalError: _echo, ...extensions } = { ...error.extensions, ...outer.extensions };
  return new GraphQLError(VARIABLE_ERROR.test(outer.message) ? outer.message : error.message, {
    nodes: outer.nodes,
    source: outer.source,
    positions: outer.positions,
    path: outer.path,
    extensions: { ...extensions, ...(mapped ? { code: mapped } : {}) },
  });
}

export type Yoga = YogaServerInstance<ServerContext, Context>;

/**
 * Limits on GraphQL documents (docs/api.md, "Limits"). Depth, alias and cost failures are
 * validation errors (GRAPHQL_VALIDATION_FAILED); the token limit trips while parsing
 * (GRAPHQL_PARSE_FAILED). Introspection is exempt from depth and cost and stays on: the schema is
 * public. The cost limit multiplies by literal `first` values, so a 100-item page of files with
 * every field (about 10,000) passes while nested pages of pages do not.
 */
export const ARMOR_LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 20_000,
  maxDirectives: 50,
};

// Armor's validation rules throw a bare GraphQLError ("Syntax Error: …", no code), which aborts
// validation; instead each rejection is reported as an ordinary validation error carrying the
// API's code (docs/api.md, "Errors"), so clients switch on GRAPHQL_VALIDATION_FAILED like for any
// invalid document.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      const message = error.message.replace(/^Syntax Error: /, '');
      const reported = new GraphQLError(message, {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      if (context) context.reportError(reported);
      else throw reported;
    },
  ],
};

const armor = EnvelopArmorPlugin({
  maxDepth: { n: ARMOR_LIMITS.maxDepth, ...asValidationError },
  maxAliases: { n: ARMOR_LIMITS.maxAliases, ...asValidationError },
  maxTokens: { n: ARMOR_LIMITS.maxTokens },
  costLimit: { maxCost: ARMOR_LIMITS.maxCost, ...asValidationError },
  maxDirectives: { n: ARMOR_LIMITS.maxDirectives, ...asValidationError },
  // Suggestions only reveal what introspection already shows, and they help integrators.
  blockFieldSuggestion: { enabled: false },
});

/**
 * CORS: no origin but the listed ones gets any CORS header, and none ever gets
 * Access-Control-Allow-Credentials (Yoga's default reflects every Origin with credentials).
 * Listed origins may send Bearer tokens; their cookies are ignored anyway (app.ts).
 */
function corsFor(origins: readonly string[]) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !origins.includes(origin)) return false as const;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-requested-with'],
      maxAge: 600,
    };
  };
}

const validationRules: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(singleUseUploads);
  },
};

/**
 * GET requests parsed as Yoga does, but with malformed `variables` or `extensions` JSON answered
 * as BAD_USER_INPUT: Yoga's own parser let the SyntaxError through as an internal error.
 */
const getParser: Plugin = {
  onRequestParse({ request, setRequestParser }) {
    if (request.method !== 'GET') return;
    setRequestParser(() => {
      const params = new URL(request.url).searchParams;
      const json = (name: string): Record<string, unknown> | undefined => {
        const text = params.get(name);
        if (!text) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          value = null;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          throw new GraphQLError(`The ${name} parameter must be a JSON object.`, {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        }
        return value as Record<string, unknown>;
      };
      return {
        query: params.get('query') ?? undefined,
        operationName: params.get('operationName') ?? undefined,
        variables: json('variables'),
        extensions: json('extensions'),
      };
    });
  },
};

export function createYogaServer(options: {
  maxRequestBodySize: number | false;
  /** Origins whose scripts may call the API with Bearer tokens (see corsFor). */
  corsOrigins: readonly string[];
  plugins?: Plugin<ServerContext & Context>[];
}): Yoga {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ context }) => context,
    graphiql: false,
    landingPage: false,
    logging: false,
    maskedErrors: { maskError },
    maxRequestBodySize: options.maxRequestBodySize,
    cors: corsFor(options.corsOrigins),
    plugins: [armor, validationRules, getParser, ...(options.plugins ?? [])],
  });
}
