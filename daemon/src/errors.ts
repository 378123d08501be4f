import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@mcp-code-mode/protocol';

/** An error with a stable code from the catalogue, for the control API. */
export class ApiError extends Error {
  constructor(readonly code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = 'ApiError';
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
