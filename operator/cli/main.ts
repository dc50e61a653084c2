#!/usr/bin/env node
// The operator process: `npm start` (against the current kubeconfig) or the container's entry point.
import { Operator } from '../app.ts';
import { MODULE_SETTINGS } from '../controllers/index.ts';
import { ConfigError, loadConfig, usage } from '../runtime/config.ts';
import { errorMessage } from '../runtime/errors.ts';
import { createLogger } from '../runtime/logger.ts';
import { VERSION } from '../runtime/version.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--version')) {
    process.stdout.write(`miniapps-operator ${VERSION}\n`);
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage(MODULE_SETTINGS)}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv, process.env, MODULE_SETTINGS);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // --identity-only: the embedded identity provider alone (the chart's identity Deployment), else the operator.
  let operator: Pick<Operator, 'start' | 'stop'>;
  try {
    operator = config.identityOnly ? new (await import('../identity-app.ts')).IdentityProcess({ config, log }) : new Operator({ config, log });
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'Operator not started');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Shutdown requested; draining in-flight work');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'Shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    operator.stop().then(
      () => {
        log.info('Shutdown complete');
        process.exit(code);
      },
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  try {
    await operator.start((reason, { drain }) => {
      if (!drain) {
        // The lease is lost: another process may lead already. Exit now, even mid-drain,
        // waiting for nothing (controller-runtime does the same); the in-flight work was
        // cancelled, and the new leader redoes what it finds unfinished.
        log.fatal({ reason }, 'Operator exited without draining');
        process.exit(1);
      }
      log.error({ reason }, 'Operator stopping');
      shutdown('fatal', 1);
    });
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'Operator not started');
    await operator.stop().catch(() => {});
    process.exit(1);
  }
}

void main();
