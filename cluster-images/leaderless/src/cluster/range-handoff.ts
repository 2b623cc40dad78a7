/**
 * Moves this node's ranges when it joins or leaves. Each tick looks at this node's own status:
 *
 * joining (version v):
 *   1. confirm: ask every other node of either ring (`move-ready`) until each one has heard of
 *      this node joining at ≥ v and has finished every write it began before it heard. From then
 *      on every write a coordinator acknowledges was sent to the old and the new owners, and every
 *      write acknowledged before is on W old owners.
 *   2. stream: pull, page by page, from every member of the read ring, the records whose target
 *      owners include this node, and join them into the store.
 *   3. registers: move the CASPaxos acceptor sets of the moving keys, phase by phase
 *      (`register-handover.ts`);
 *   4. become a member (version v+1); gossip spreads it and reads switch to the new owners.
 * leaving (version v):
 *   1. confirm as above;
 *   2. push every stored record to the nodes that gain it, and wait until the hints this node
 *      holds for others are delivered;
 *   3. registers, as for a join;
 *   4. become left (v+1), and make sure every other node of the rings has heard it (the admin API
 *      reports the hand-off done only then: the node may be stopped).
 * With streaming off (unsafe) a node skips the confirm, move and register steps.
 *
 * Any failure leaves the step to be retried at the next tick; nothing is deleted anywhere.
 */
import type { RecordItem, RecordType, State } from '../replica/types.js';
import type { MemberStates, MemberStateWire } from './member-states.js';
import { batches } from './messages.js';
import type { Placement } from './placement.js';

export type HandoffPhase =
  | 'idle'
  | 'confirming'
  | 'streaming'
  | 'registers'
  | 'announcing'
  | 'done';

export interface HandoffHost {
  readonly self: string;
  readonly states: MemberStates;
  readonly placement: Placement;
  readonly streaming: boolean;
  /** Exchanges membership tables with `peer`; resolves to the peer's table. */
  exchangeTables(peer: string): Promise<MemberStateWire[]>;
  /** Whether `peer` knows this node's entry at ≥ version and finished the writes begun before. */
  moveReady(peer: string, version: number): Promise<boolean>;
  fetchPage(
    peer: string,
    version: number,
    after: string | null,
  ): Promise<{ items: RecordItem[]; next: string | null }>;
  applyLocal(items: readonly RecordItem[]): Promise<void>;
  push(peer: string, items: RecordItem[]): Promise<void>;
  storedRecords(): Iterable<{ type: RecordType; key: string }>;
  stored(type: RecordType, key: string): State | undefined;
  pendingHints(): number;
  /** Moves the registers' acceptor sets (see register-handover.ts); true once done. */
  moveRegisters(version: number, peers: readonly string[]): Promise<boolean>;
  log(level: 'debug' | 'info' | 'warn', line: string): void;
}

interface Progress {
  /** The own status and version this progress is about. */
  status: 'joining' | 'leaving';
  version: number;
  confirmed: Set<string>;
  /** Every node of the rings is ready (see confirm). */
  ready: boolean;
  /** Per source: the last record id pulled, or 'done'. */
  cursors: Map<string, string | null | 'done'>;
  startedAt: number;
  /** When streaming began (0: not yet). */
  streamingSince: number;
  records: number;
}

export class RangeHandoff {
  private progress: Progress | undefined;
  private phase: HandoffPhase = 'idle';
  private running = false;
  /** The `left` version every other node has confirmed (the hand-off is then done). */
  private announcedLeft = -1;
  private last: { status: string; records: number; ms: number; streamMs: number } | undefined;

  constructor(private readonly host: HandoffHost) {}

  status() {
    return {
      phase: this.phase,
      records: this.progress?.records ?? 0,
      ...(this.progress ? { confirmed: [...this.progress.confirmed].sort() } : {}),
      ...(this.last ? { lastCompleted: this.last } : {}),
    };
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.step();
    } catch (e) {
      this.host.log('debug', `hand-off step failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private async step(): Promise<void> {
    const { host } = this;
    const me = host.states.get(host.self);
    if (!me || me.status === 'member') {
      this.progress = undefined;
      this.phase = me ? 'done' : 'idle';
      return;
    }
    if (me.status === 'left') {
      if (this.announcedLeft >= me.version) return;
      this.phase = 'announcing';
      if (await this.everyoneKnows(me.version, 'left')) {
        this.announcedLeft = me.version;
        this.phase = 'done';
      }
      return;
    }
    let p = this.progress;
    if (!p || p.status !== me.status || p.version !== me.version) {
      p = {
        status: me.status,
        version: me.version,
        confirmed: new Set(),
        ready: false,
        cursors: new Map(),
        startedAt: Date.now(),
        streamingSince: 0,
        records: 0,
      };
      this.progress = p;
    }
    if (host.streaming) {
      if (!p.ready) {
        this.phase = 'confirming';
        if (!(await this.everyoneReady(p.version, p.confirmed))) return;
        p.ready = true;
      }
      this.phase = 'streaming';
      if (p.streamingSince === 0) p.streamingSince = Date.now();
      const complete = p.status === 'joining' ? await this.pull(p) : await this.pushAll(p);
      if (!complete) return;
      this.phase = 'registers';
      if (!(await host.moveRegisters(p.version, this.peers()))) return;
    }
    const next = host.states.set(host.self, p.status === 'joining' ? 'member' : 'left');
    const ms = Date.now() - p.startedAt;
    const streamMs = p.streamingSince === 0 ? 0 : Date.now() - p.streamingSince;
    this.last = { status: p.status, records: p.records, ms, streamMs };
    host.log(
      'info',
      `${p.status === 'joining' ? 'joined' : 'left'} (version ${next.version}): ` +
        `${host.streaming ? `${p.records} records streamed` : 'streaming OFF (unsafe)'} in ${ms} ms` +
        ` (streaming ${streamMs} ms)`,
    );
    this.progress = undefined;
    this.phase = next.status === 'left' ? 'announcing' : 'done';
  }

  /** Every other node that is not known to have left, and every node of either ring. */
  private peers(): string[] {
    const { host } = this;
    const others = new Set([
      ...host.placement.readRingMembers(),
      ...host.placement.targetRingMembers(),
      ...host.states.withStatus('joining', 'member', 'leaving'),
    ]);
    others.delete(host.self);
    return [...others];
  }

  /**
   * Every peer knows this node's entry at ≥ version and has finished the writes it began before
   * it knew: every write acknowledged from then on was sent to the new owners as well, and every
   * one acknowledged before is on W old owners, which the stream reads.
   */
  private async everyoneReady(version: number, confirmed: Set<string>): Promise<boolean> {
    const { host } = this;
    let all = true;
    await Promise.all(
      this.peers().map(async (peer) => {
        if (confirmed.has(peer)) return;
        try {
          if (await host.moveReady(peer, version)) {
            confirmed.add(peer);
            return;
          }
          all = false;
          await host.exchangeTables(peer); // let it hear of the change sooner than gossip would
        } catch {
          all = false;
        }
      }),
    );
    return all;
  }

  /** Every other node of either ring has this node at ≥ version with a status at least `status`. */
  private async everyoneKnows(
    version: number,
    status: string,
    confirmed = new Set<string>(),
  ): Promise<boolean> {
    const { host } = this;
    let all = true;
    await Promise.all(
      this.peers().map(async (peer) => {
        if (confirmed.has(peer)) return;
        try {
          const table = await host.exchangeTables(peer);
          const theirs = table.find(([id]) => id === host.self);
          if (theirs && theirs[2] >= version && (theirs[1] === status || theirs[2] > version)) {
            confirmed.add(peer);
          } else {
            all = false;
          }
        } catch {
          all = false;
        }
      }),
    );
    return all;
  }

  /** Joining: pulls from every read-ring member; true once each has been read to the end. */
  private async pull(p: Progress): Promise<boolean> {
    const { host } = this;
    const sources = host.placement.readRingMembers().filter((x) => x !== host.self);
    let complete = true;
    for (const source of sources) {
      let cursor = p.cursors.get(source) ?? null;
      if (cursor === 'done') continue;
      try {
        for (;;) {
          const page = await host.fetchPage(source, p.version, cursor);
          await host.applyLocal(page.items);
          p.records += page.items.length;
          cursor = page.next;
          p.cursors.set(source, cursor ?? 'done');
          if (cursor === null) break;
        }
      } catch (e) {
        complete = false;
        host.log('debug', `hand-off pull from ${source} failed: ${(e as Error).message}`);
      }
    }
    return complete;
  }

  /** Leaving: pushes every stored record to its gainers, then waits for hints to drain. */
  private async pushAll(p: Progress): Promise<boolean> {
    const { host } = this;
    if (!p.cursors.has('push')) {
      const byPeer = new Map<string, RecordItem[]>();
      for (const { type, key } of host.storedRecords()) {
        const state = host.stored(type, key);
        if (!state) continue;
        for (const gainer of host.placement.gainers(key)) {
          if (gainer === host.self) continue;
          let list = byPeer.get(gainer);
          if (!list) {
            list = [];
            byPeer.set(gainer, list);
          }
          list.push({ type, key, state });
        }
      }
      for (const [peer, items] of byPeer) {
        for (const batch of batches(items)) {
          await host.push(peer, batch);
          p.records += batch.length;
        }
      }
      p.cursors.set('push', 'done');
    }
    return host.pendingHints() === 0;
  }
}
