// ApiKey's flags: the verify endpoint's own plain-HTTP listener and its rate limits per
// caller. The module declares them (apiKeyModule.settings); the operator's configuration,
// --help and docs/reference/flags.md gather them from the registry's modules.
import { defineSettings } from '../../runtime/config.ts';

export const apiKeySettings = defineSettings({
  verifyBindAddress: {
    flag: 'verify-bind-address',
    env: 'MINIAPPS_VERIFY_BIND_ADDRESS',
    kind: 'address',
    off: true,
    help: 'Plain HTTP listener for the API key verify endpoint (POST /verify), for a gateway beside the operator; it is also served over TLS on --api-bind-address. "0" disables this listener.',
    default: () => '0',
  },
  verifyRateLimit: {
    flag: 'verify-rate-limit',
    env: 'MINIAPPS_VERIFY_RATE_LIMIT',
    kind: 'int',
    help: 'Verifications per minute per caller of the verify endpoint; beyond it (and --verify-rate-burst) it answers 429 with Retry-After.',
    default: () => '60000',
    min: 1,
  },
  verifyRateBurst: {
    flag: 'verify-rate-burst',
    env: 'MINIAPPS_VERIFY_RATE_BURST',
    kind: 'int',
    help: 'Verifications a caller may make at once before --verify-rate-limit applies.',
    default: () => '2000',
    min: 1,
  },
});
