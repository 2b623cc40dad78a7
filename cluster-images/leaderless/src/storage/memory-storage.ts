import type { Storage } from './storage.js';

/** `--storage memory`: nothing is kept; a restarted node starts empty. */
export class MemoryStorage implements Storage {
  append(): Promise<void> {
    return Promise.resolve();
  }
  barrier(): Promise<void> {
    return Promise.resolve();
  }
  compact(): Promise<void> {
    return Promise.resolve();
  }
  logBytes(): number {
    return 0;
  }
  snapshotBytes(): number {
    return 0;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
