/**
 * Helpers for the models' exact pruning (Model.viability). An operation g not yet linearized
 * can only be preceded by operations called no later than its return: those in the search's
 * `pending` window, and those called after the front's return and no later than g's (all of
 * which are still unlinearized). `CallTimes` answers the second part from sorted call times.
 */
export class CallTimes<K> {
  private readonly byKey = new Map<K, number[]>();
  private sorted = false;

  add(key: K, call: number): void {
    let list = this.byKey.get(key);
    if (list === undefined) {
      list = [];
      this.byKey.set(key, list);
    }
    list.push(call);
    this.sorted = false;
  }

  /** Whether some call under `key` lies in (after, until]. */
  anyIn(key: K, after: number, until: number): boolean {
    if (!this.sorted) {
      for (const list of this.byKey.values()) list.sort((a, b) => a - b);
      this.sorted = true;
    }
    const list = this.byKey.get(key);
    if (list === undefined) return false;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length && list[lo]! <= until;
  }
}
