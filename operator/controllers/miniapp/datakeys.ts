import type { MiniApp, MiniAppStatus } from '../../api/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';

/** What a reconcile learns of a mini app's data key. */
export interface DataKeyOutcome {
  condition: ConditionInput;
  /** Retrying cannot fix it (a conflict to resolve by hand). */
  stalled: boolean;
  /** status.dataKey as it should be now (undefined: leave it as it is). */
  status?: NonNullable<MiniAppStatus['dataKey']>;
}

/** The data keys of mini apps with EnvelopeEncryption. */
export interface DataKeys {
  /** Makes the data key if it has none (once, persisted before use), rewraps it with the current key-encryption key. */
  ensure(mini: MiniApp): Promise<DataKeyOutcome>;
  /** Destroys the data key (crypto-shredding). */
  destroy(mini: MiniApp): Promise<void>;
}
