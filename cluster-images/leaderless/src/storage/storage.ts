/** What the replica needs from storage: an ordered, checksummed record log with snapshots. */
export interface Storage {
  /**
   * Append one record (a payload). Resolves when it is durable per the fsync policy: `always`
   * after fsync, `interval` and `never` after write() (in the kernel, safe from SIGKILL).
   * Concurrent appends are group-committed (one write + one fsync per batch).
   */
  append(payload: Buffer): Promise<void>;
  /** Resolves once every record appended before this call is as durable as `append` promises. */
  barrier(): Promise<void>;
  /**
   * Replace the log by a snapshot. `snapshot()` is called synchronously at a point where every
   * earlier append has been written and none is in flight ("the cut"); it returns the live state
   * as records whose replay rebuilds it. The iterable is consumed afterwards, a chunk at a time
   * (so a large snapshot does not stall the node), so it must describe the state at the cut:
   * capture immutable values at the call, encode lazily. Later appends go to a fresh log.
   */
  compact(snapshot: () => Iterable<Buffer>): Promise<void>;
  /** Bytes in the live log (since the last snapshot). */
  logBytes(): number;
  /** Bytes of the last snapshot (0 if none). */
  snapshotBytes(): number;
  close(): Promise<void>;
}

export interface RecoveryStats {
  recoveredRecords: number;
  truncatedBytes: number;
}

/**
 * Thrown by a replay callback for a record that is intact but cannot be used with the current
 * settings (e.g. a data dir written in another conflict mode). Recovery stops with this error
 * instead of treating the record as a corrupt tail.
 */
export class FatalRecoveryError extends Error {
  override name = 'FatalRecoveryError';
}
