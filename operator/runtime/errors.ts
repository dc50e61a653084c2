/** An error from the Kubernetes API, carrying the HTTP status and the Status reason. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;
  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

/**
 * An error that retrying cannot fix (bad input): the work queue does not back off and
 * retry it; the object waits for its next change.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export const isStatus = (err: unknown, status: number): boolean => err instanceof ApiError && err.status === status;
export const isNotFound = (err: unknown): boolean => isStatus(err, 404);
export const isConflict = (err: unknown): boolean => isStatus(err, 409);
export const isGone = (err: unknown): boolean => isStatus(err, 410);
export const isAlreadyExists = (err: unknown): boolean => isStatus(err, 409) && (err as ApiError).reason === 'AlreadyExists';

/** The message of any thrown value, for logs and conditions. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
