// Membership's own flags, read as the process reads them (with every module's settings).
import { describe, expect, it } from 'vitest';
import { loadConfig, settingsOf } from '../../runtime/config.ts';
import { MODULE_SETTINGS } from '../index.ts';
import { membershipSettings } from './settings.ts';

const own = (argv: string[], env: NodeJS.ProcessEnv) => settingsOf(loadConfig(argv, env, MODULE_SETTINGS), membershipSettings);

describe("membership's settings", () => {
  it('limits invitation resends to one per membership every 10 minutes and 20 per organization an hour unless told otherwise', () => {
    expect(own([], {})).toMatchObject({ invitationResendIntervalMs: 600_000, invitationResendLimit: 20, invitationRecipientLimit: 3, invitationOrganizationLimit: 500 });
    expect(own(['--invitation-recipient-limit=1'], { MINIAPPS_INVITATION_ORGANIZATION_LIMIT: '50' })).toMatchObject({ invitationRecipientLimit: 1, invitationOrganizationLimit: 50 });
    expect(own(['--invitation-resend-interval=2s'], { MINIAPPS_INVITATION_RESEND_LIMIT: '3' })).toMatchObject({ invitationResendIntervalMs: 2000, invitationResendLimit: 3 });
  });

  it('serves the acceptance page on :8081 unless "0" turns it off, with invitation links under --public-url', () => {
    expect(own([], {})).toMatchObject({ publicBindAddress: { host: '0.0.0.0', port: 8081 }, publicUrl: 'http://localhost:8081/' });
    expect(own(['--public-bind-address=0'], {}).publicBindAddress).toBeUndefined();
    expect(() => own(['--invitation-resend-limit=0'], {})).toThrow('Invalid configuration: --invitation-resend-limit (MINIAPPS_INVITATION_RESEND_LIMIT) must be a whole number of at least 1, got "0"');
    expect(() => own(['--public-url=join'], {})).toThrow('--public-url (MINIAPPS_PUBLIC_URL) must be an absolute URL');
  });

  it("is one of the modules' settings the process reads", () => {
    expect(MODULE_SETTINGS).toContain(membershipSettings);
  });
});
