import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';

/**
 * JSON logs, one line per entry, Kubernetes style: message capitalised, past tense, no
 * trailing period; the object as key-values. Secrets are never logged: the redact
 * paths are a second line of defence for fields that could carry one by mistake.
 */
export function createLogger(level: Level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'miniapps-operator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['*.password', '*.token', '*.apiKey', '*.key', 'password', 'token', 'apiKey'], censor: '[redacted]' },
    },
    destination,
  );
}
