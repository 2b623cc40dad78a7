import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { leaderless } from '../cluster-images/leaderless/system.js';
import { ErrorRegistry } from './client.js';
import type { LaunchContext } from './cluster.js';
import { defineSystem, isSystemDefinition, type SystemConfig } from './system.js';

const client = {
  errors: new ErrorRegistry([]),
  open: () => ({ invoke: async () => ({}), close: async () => {} }),
};
const ctx: LaunchContext = {
  node: 'n1',
  listen: { host: '127.0.0.1', port: 1 },
  peerListen: { host: '127.0.0.1', port: 2 },
  peers: {},
  pool: {},
  joining: false,
  dataDir: '/d',
  settings: {},
};
const settings = z.strictObject({
  mode: z.enum(['a', 'b']).default('a'),
  copies: z.coerce.number().int().min(1).default(2),
});
const base = {
  name: 'toy',
  settings,
  local: {
    launch: (c: {
      settings: z.output<typeof settings>;
      given: Readonly<Record<string, string>>;
    }) => ({
      command: '/bin/toy',
      args: [c.settings.mode, String(c.settings.copies), JSON.stringify(c.given)],
      env: {},
    }),
  },
  healthy: async () => true,
  clients: { register: client },
  replicationFactor: (s: z.output<typeof settings>, nodes: number) => Math.min(s.copies, nodes),
} satisfies SystemConfig<typeof settings>;

describe('defineSystem', () => {
  it('hands the launch typed settings with their defaults, and the settings as given', () => {
    const sys = defineSystem(base);
    expect(isSystemDefinition(sys)).toBe(true);
    expect(sys.recipe().launch({ ...ctx, settings: { copies: '3' } }).args).toEqual([
      'a',
      '3',
      '{"copies":"3"}',
    ]);
    expect(sys.backends).toEqual(['local', 'ssh']);
    expect(sys.replicationFactor?.({}, 5)).toBe(2);
    expect(sys.recipe().clockFaults).toBe(false);
  });

  it('judges settings before a run, naming the setting and the value', () => {
    const sys = defineSystem(base);
    expect(sys.checkSettings?.({ mode: 'b' })).toBeUndefined();
    expect(sys.checkSettings?.({ mode: 'c' })).toMatch(/^system toy: setting mode: .*got "c"$/);
    expect(sys.checkSettings?.({ copies: 'many' })).toMatch(/setting copies: .*got "many"/);
    expect(sys.checkSettings?.({ colour: 'red' })).toBe('system toy has no setting colour');
    // A schema that strips unknown keys is held to the same rule.
    const { replicationFactor: _r, local: _l, ...plain } = base;
    const launch = { launch: () => ({ command: '/bin/toy', args: [], env: {} }) };
    const loose = defineSystem({
      ...plain,
      local: launch,
      settings: z.object({ mode: z.string().optional() }),
    });
    expect(loose.checkSettings?.({ colour: 'red' })).toBe('system toy has no setting colour');
    // No schema: the system takes no settings.
    const none = defineSystem({ ...plain, local: launch });
    expect(none.checkSettings?.({ x: '1' })).toBe('system toy has no setting x');
    expect(leaderless.checkSettings?.({ storage: 'floppy' })).toMatch(
      /^system leaderless: setting storage: .*got "floppy"$/,
    );
    expect(
      leaderless.checkSettings?.({ storage: 'memory', n: '5', fsync: 'never' }),
    ).toBeUndefined();
  });

  it('refuses a definition that cannot work, naming the field', () => {
    const bad = (over: Record<string, unknown>) => () =>
      defineSystem({ ...base, ...over } as unknown as SystemConfig<typeof settings>);
    expect(bad({ name: 'My KV' })).toThrow(
      /defineSystem\(My KV\): field name: expected lower-case/,
    );
    expect(bad({ local: undefined })).toThrow(/give local.launch, docker.image, or both/);
    expect(bad({ clients: { register: {} } })).toThrow(
      /field clients.register: expected a client factory/,
    );
    expect(bad({ healthy: 1 })).toThrow(/field healthy: expected a function/);
    expect(bad({ docker: { image: { files: [{ from: 'rel/x', to: '/x' }] } } })).toThrow(
      /field docker.image.files.0.from: from: expected an absolute host path/,
    );
    expect(bad({ local: undefined, docker: { image: {} } })).toThrow(/field docker.launch: needed/);
    // Strict: a misspelt field is named, not ignored.
    expect(bad({ helthy: base.healthy })).toThrow(/defineSystem\(.*\): unknown field helthy$/);
    expect(bad({ membership: { join: async () => {}, leave: async () => {}, leev: 1 } })).toThrow(
      /unknown field leev in membership/,
    );
  });

  it('carries the optional hooks: leader and membership', async () => {
    const joined: string[] = [];
    const s = defineSystem({
      ...base,
      leader: async () => 'n2',
      membership: {
        join: async (_c, node) => {
          joined.push(`+${node}`);
        },
        leave: async (_c, node) => {
          joined.push(`-${node}`);
        },
      },
    });
    const view = {
      nodes: ['n1', 'n2'],
      clientAddress: () => ({ host: 'h', port: 1 }),
      signal: new AbortController().signal,
    };
    expect(await s.leader?.(view)).toBe('n2');
    const members = {
      ...view,
      members: ['n1', 'n2'],
      peerAddress: () => ({ host: 'h', port: 2 }),
    };
    await s.membership?.join(members, 'n3', async () => {});
    await s.membership?.leave(members, 'n1', async () => {});
    expect(joined).toEqual(['+n3', '-n1']);
  });

  it('carries the docker image recipe; file: URLs become host paths', () => {
    const sys = defineSystem({
      ...base,
      docker: {
        image: {
          files: [{ from: new URL('file:///srv/toy/bin'), to: '/opt/toy' }],
          binaries: ['/usr/bin/env'],
          baseImage: 'debian:12',
        },
      },
    });
    expect(sys.backends).toEqual(['local', 'ssh', 'docker']);
    expect(sys.recipe().docker?.image).toEqual({
      files: [{ from: '/srv/toy/bin', to: '/opt/toy' }],
      binaries: ['/usr/bin/env'],
      baseImage: 'debian:12',
    });
    expect(sys.recipe().docker?.launch).toBeUndefined();
  });
});
