/**
 * Moves the CASPaxos registers (`/lin`) of a joining or leaving node's ranges to their new
 * acceptors, by the CASPaxos paper's procedure (`paxos/reconfigure.ts`, `paxos/transition.ts`).
 * Run by the moving node itself, after every node of the rings has confirmed the change, in
 * phases 1 … TRANSITION_PHASES; for each phase p:
 *   1. install: every node of the rings (this one included) raises the change's phase to p,
 *      persists it, and answers ready once no CASPaxos operation it began before is still
 *      running. From then on every proposer uses phase p's quorums for the moving keys (for
 *      a key gaining J and losing D: widen accept to include J, widen prepare, narrow prepare
 *      to drop D, narrow accept);
 *   2. rewrite: collect, from every node of the rings, the registers whose owners change, and
 *      run the identity change x → x on each through phase p's quorums, so each key's latest
 *      value sits on an accept quorum of phase p before the next phase narrows anything.
 * Acceptor state is never copied: a gained acceptor starts empty, as if it had been down, and
 * the rewrites fill it. Progress is kept in memory; the phase itself is persisted on every node,
 * so after a restart the procedure resumes at the phase reached (installing is idempotent).
 */
import { TRANSITION_PHASES } from '../paxos/transition.js';
import type { LinPhases } from './lin-phases.js';

export interface RegisterHandoverHost {
  readonly self: string;
  readonly phases: LinPhases;
  /** Asks `peer` (possibly this node) to install `phase` of this node's change at `version`. */
  install(peer: string, version: number, phase: number): Promise<boolean>;
  /** Every register `peer` holds acceptor state for whose owners the change alters. */
  movingKeys(peer: string, version: number): Promise<string[]>;
  /** The identity change on `key` through this node's proposer; true when it was accepted. */
  rewrite(key: string): Promise<boolean>;
  log(level: 'debug' | 'info' | 'warn', line: string): void;
}

interface Progress {
  version: number;
  phase: number;
  ready: Set<string>;
  keys: string[] | undefined;
  rewritten: number;
}

export class RegisterHandover {
  private progress: Progress | undefined;
  /** The version of the last change this node finished moving. */
  private finished: number | undefined;

  constructor(private readonly host: RegisterHandoverHost) {}

  /**
   * Advances this node's change at `version` as far as it can; true once every phase is
   * installed everywhere and every moving key rewritten through the last one.
   * `peers`: every other node of either ring.
   */
  async advance(version: number, peers: readonly string[]): Promise<boolean> {
    const { host } = this;
    if (this.finished === version) return true;
    let p = this.progress;
    if (!p || p.version !== version) {
      const reached = host.phases.get(host.self, version);
      p = {
        version,
        phase: Math.max(1, reached),
        ready: new Set(),
        keys: undefined,
        rewritten: 0,
      };
      this.progress = p;
    }
    const everyone = [host.self, ...peers.filter((x) => x !== host.self)];
    while (p.phase <= TRANSITION_PHASES) {
      if (!(await this.installEverywhere(p, everyone))) return false;
      if (p.keys === undefined) {
        const found = new Set<string>();
        try {
          for (const peer of everyone)
            for (const k of await host.movingKeys(peer, version)) found.add(k);
        } catch (e) {
          host.log('debug', `register hand-off: listing keys failed: ${(e as Error).message}`);
          return false;
        }
        p.keys = [...found].sort();
        p.rewritten = 0;
      }
      while (p.rewritten < p.keys.length) {
        const key = p.keys[p.rewritten]!;
        if (!(await host.rewrite(key))) {
          host.log(
            'debug',
            `register hand-off: rewrite of ${JSON.stringify(key)} not accepted yet`,
          );
          return false;
        }
        p.rewritten++;
      }
      host.log(
        'info',
        `register hand-off: phase ${p.phase}/${TRANSITION_PHASES} installed on ${everyone.length} nodes, ${p.keys.length} keys rewritten`,
      );
      if (p.phase === TRANSITION_PHASES) break;
      p.phase++;
      p.ready = new Set();
      p.keys = undefined;
    }
    this.finished = version;
    this.progress = undefined;
    return true;
  }

  private async installEverywhere(p: Progress, everyone: readonly string[]): Promise<boolean> {
    const { host } = this;
    let all = true;
    await Promise.all(
      everyone.map(async (peer) => {
        if (p.ready.has(peer)) return;
        try {
          if (await host.install(peer, p.version, p.phase)) p.ready.add(peer);
          else all = false;
        } catch (e) {
          all = false;
          host.log(
            'debug',
            `register hand-off: install at ${peer} failed: ${(e as Error).message}`,
          );
        }
      }),
    );
    return all;
  }
}
