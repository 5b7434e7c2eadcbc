/**
 * @module The one error type the REST edge turns into the error envelope. Runtime conditions the
 * client caused (bad input, no access, limits) are HubErrors; anything else is a bug and becomes 500.
 */
export class HubError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Retry-After, …). */
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.name = 'HubError'
  }
}

/** The literal messages clients match on (RyzeAPI's wording). */
export const MSG = {
  missingToken: 'Missing token in header, Authorization header, or query parameter',
  invalidToken: 'Invalid token',
  noAccess: 'Token does not have access to this instance',
  adminOnly: 'Admin token required',
  accountOnly: 'Account token required',
  instanceNotFound: 'Instance not found',
  accountNotFound: 'Account not found',
  notFound: 'Not found',
  methodNotAllowed: 'Method not allowed',
  rateLimited: 'Rate limit exceeded. Try again later.',
  invalidBody: 'Invalid request body',
  nameInUse: 'Instance name already in use',
  accountNameInUse: 'Account name already in use',
  quotaExceeded: 'Account instance quota exceeded',
  tokenInUse: 'Token already in use',
  websocketNotConfigured: 'WebSocket not configured for this instance',
  internal: 'Internal server error',
} as const
