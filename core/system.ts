import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ClientApi, ClientFactory, Op } from './client.js';
import type {
  DockerImageRecipe,
  HostPort,
  LaunchContext,
  NodeId,
  NodeLaunch,
  SystemRecipe,
} from './cluster.js';

/**
 * How a system changes its membership at runtime, for the membership fault (a system without it
 * cannot take that fault). Each resolves once the system has accepted the change (not once data
 * has moved); a rejection is recorded as the fault's error.
 */
export interface MembershipHooks {
  /**
   * Make `node` (not running: a spare, or a node removed earlier) a member. `start()` starts it
   * fresh (empty data, launched with `joining: true` and the members as peers) and resolves once
   * it is healthy: call it when the system wants, e.g. after announcing the member (etcd's
   * member add) or before telling the others about it (a gossip store).
   */
  join(cluster: MembershipView, node: NodeId, start: () => Promise<void>): Promise<void>;
  /**
   * Take member `node` out. `stop()` stops it for good and deletes its data: call it once the
   * system has let the node go (or first, for a system that notices departures itself).
   */
  leave(cluster: MembershipView, node: NodeId, stop: () => Promise<void>): Promise<void>;
  /** The fewest members the system must keep (the fault never shrinks below). Default: 2. */
  minMembers?(settings: Readonly<Record<string, string>>, initialNodes: number): number;
}

/** What a system's `leader` hook is shown of the running cluster. */
export interface ClusterView {
  nodes: readonly NodeId[];
  clientAddress(node: NodeId): HostPort;
  signal: AbortSignal;
}

/** What the membership hooks are shown: the members now, and where each node serves its peers. */
export interface MembershipView extends ClusterView {
  /** The members now (before the change), in node order. */
  members: readonly NodeId[];
  /** Where `node` serves its peers (its `peerListen`). */
  peerAddress(node: NodeId): HostPort;
}

/**
 * A system under test as the harness knows it: how to start its nodes (the recipe, harness-side:
 * the system itself knows nothing of faultline), its clients by API (see CLIENT_APIS in
 * client.ts) and what it says about itself. Made by `defineSystem`.
 */
export interface SystemDefinition {
  name: string;
  recipe(): SystemRecipe;
  clients: Record<string, ClientFactory<Op>>;
  /** A reason the system cannot run here (e.g. its binary is not built), checked before a run. */
  preflight?(): string | undefined;
  /** The backends it can be started on (absent: any). */
  backends?: readonly string[];
  /** A message naming the bad or unknown setting, checked before anything starts; else undefined. */
  checkSettings?(settings: Readonly<Record<string, string>>): string | undefined;
  /** Each setting with its default (undefined: none), as `faultline run --help` lists them. */
  settingDefaults?(): Readonly<Record<string, unknown>>;
  /** How many nodes hold each key with these settings on `nodes` nodes (absent: every node). */
  replicationFactor?(settings: Readonly<Record<string, string>>, nodes: number): number;
  /** The node that leads now (for faults aimed at the leader); undefined when none does. */
  leader?(cluster: ClusterView): Promise<NodeId | undefined>;
  /** How nodes join and leave at runtime (absent: fixed membership). */
  membership?: MembershipHooks;
}

/** A launch's context as `defineSystem` hands it over: settings validated, with their defaults. */
export interface SystemLaunchContext<Settings> extends LaunchContext<Settings> {
  /** The settings exactly as given for the run (text), without the schema's defaults. */
  given: Readonly<Record<string, string>>;
}

/** A docker image recipe as written in a definition: host paths absolute, or file: URLs. */
export interface DockerImageInput {
  files?: { from: string | URL; to: string }[];
  binaries?: (string | URL)[];
  baseImage?: string;
}

/** The settings schema of a system: text values in (as `--system-opt k=v` gives them), any object out. */
export type SettingsSchema = z.ZodType<object>;

/** What `defineSystem` takes. Give `local`, `docker`, or both. */
export interface SystemConfig<S extends SettingsSchema> {
  /** Names the system (`--system NAME`, images, results folders): lower-case letters, digits, -. */
  name: string;
  /**
   * The node settings (`settings` in a spec, `--system-opt key=value`): values arrive as text,
   * so use z.coerce.number(), z.enum([...]) and .default(...). Validated before anything
   * starts; a setting the schema does not name is refused. Absent: the system takes none.
   */
  settings?: S;
  /** How to start node i as a local process. */
  local?: { launch(ctx: SystemLaunchContext<z.output<S>>): NodeLaunch };
  /**
   * How to start node i in a container: the image, and the command in it (default: the local
   * launch with the image's host paths, and the host's node binary, replaced by image paths).
   */
  docker?: {
    image: DockerImageInput;
    launch?(ctx: SystemLaunchContext<z.output<S>>): NodeLaunch;
  };
  /** Resolves true once a node answers at its client address; must not hang (own timeout). */
  healthy(client: HostPort): Promise<boolean>;
  /** The client APIs the system offers, by name (CLIENT_APIS). */
  clients: Partial<Record<ClientApi, ClientFactory<Op>>> & Record<string, ClientFactory<Op>>;
  /** Whether the nodes read the wall clock through libc, so clock faults can move it. Default false. */
  clockFaults?: boolean;
  /** How many nodes hold each key (default: every node). */
  replicationFactor?(settings: z.output<S>, nodes: number): number;
  /** The node that leads now, for faults aimed at the leader. */
  leader?(cluster: ClusterView): Promise<NodeId | undefined>;
  /** How nodes join and leave at runtime, for membership faults (absent: fixed membership). */
  membership?: MembershipHooks;
  /** A reason it cannot run here (a binary not built...), checked before a run. */
  preflight?(): string | undefined;
}

export class SystemDefinitionError extends Error {
  override readonly name = 'SystemDefinitionError';
}

const hostPath = (field: string) =>
  z.union([z.string(), z.instanceof(URL)]).transform((v, ctx) => {
    const p = v instanceof URL ? fileURLToPath(v) : v;
    if (!isAbsolute(p)) {
      ctx.addIssue({
        code: 'custom',
        message: `${field}: expected an absolute host path or a file: URL (new URL('./x', import.meta.url)), got ${JSON.stringify(p)}`,
      });
      return z.NEVER;
    }
    return p;
  });

const imageSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        from: hostPath('from'),
        to: z.string().regex(/^\//, 'expected an absolute image path'),
      }),
    )
    .optional(),
  binaries: z.array(hostPath('binary')).optional(),
  baseImage: z.string().min(1).optional(),
});

const fn = z.custom<unknown>((v) => typeof v === 'function', 'expected a function');
/** Strict, so that a misspelt field of a definition is named rather than ignored. */
const configShape = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,40}$/, 'expected lower-case letters, digits and - (it names images)'),
  settings: z.unknown().optional(),
  local: z.strictObject({ launch: fn }).optional(),
  docker: z.strictObject({ image: z.unknown(), launch: fn.optional() }).optional(),
  clockFaults: z.boolean().optional(),
  clients: z.record(z.string(), z.unknown()),
  healthy: fn,
  replicationFactor: fn.optional(),
  leader: fn.optional(),
  membership: z.strictObject({ join: fn, leave: fn, minMembers: fn.optional() }).optional(),
  preflight: fn.optional(),
});

function fail(name: string, issues: z.core.$ZodIssue[]): never {
  const i = issues[0];
  if (i?.code === 'unrecognized_keys') {
    const where = i.path.length > 0 ? ` in ${i.path.join('.')}` : '';
    throw new SystemDefinitionError(
      `defineSystem(${name}): unknown field ${i.keys.join(', ')}${where}`,
    );
  }
  throw new SystemDefinitionError(
    `defineSystem(${name}): field ${i?.path.join('.') || '(root)'}: ${i?.message}`,
  );
}

/** A system as a value (what `defineSystem` returns, what a system module exports by default). */
export function isSystemDefinition(v: unknown): v is SystemDefinition {
  const o = v as Partial<SystemDefinition> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    typeof o.recipe === 'function' &&
    typeof o.clients === 'object'
  );
}

/**
 * Defines a system under test for faultline: `export default defineSystem({...})`. The result is
 * checked here (throws SystemDefinitionError naming the field) and is what `--system ./file.ts`,
 * `defineTest({ system })` and the built-in registry all take.
 */
export function defineSystem<S extends SettingsSchema = z.ZodObject<Record<never, never>>>(
  config: SystemConfig<S>,
): SystemDefinition {
  const label = typeof config?.name === 'string' ? config.name : '?';
  const shape = configShape.safeParse(config);
  if (!shape.success) fail(label, shape.error.issues);
  const name = config.name;
  for (const [api, factory] of Object.entries(config.clients)) {
    const f = factory as Partial<ClientFactory> | undefined;
    if (typeof f?.open !== 'function' || typeof f.errors?.classify !== 'function') {
      throw new SystemDefinitionError(
        `defineSystem(${name}): field clients.${api}: expected a client factory {open, errors}`,
      );
    }
  }
  if (config.local === undefined && config.docker === undefined) {
    throw new SystemDefinitionError(
      `defineSystem(${name}): give local.launch, docker.image, or both: there is no way to start a node`,
    );
  }
  if (config.local === undefined && config.docker?.launch === undefined) {
    throw new SystemDefinitionError(
      `defineSystem(${name}): field docker.launch: needed when there is no local launch to map into the image`,
    );
  }
  let image: DockerImageRecipe | undefined;
  if (config.docker !== undefined) {
    const parsed = imageSchema.safeParse(config.docker.image);
    if (!parsed.success) {
      fail(
        name,
        parsed.error.issues.map((i) => ({ ...i, path: ['docker', 'image', ...i.path] })),
      );
    }
    image = Object.fromEntries(
      Object.entries(parsed.data).filter(([, v]) => v !== undefined),
    ) as DockerImageRecipe;
  }
  const schema: SettingsSchema = config.settings ?? z.strictObject({});

  const parseSettings = (given: Readonly<Record<string, string>>) => {
    const r = schema.safeParse(given);
    if (!r.success) {
      const i = r.error.issues[0];
      const unknown = i?.code === 'unrecognized_keys' ? i.keys : [];
      if (unknown.length > 0) {
        return {
          error: `system ${name} has no setting ${unknown.join(', ')}`,
        } as const;
      }
      const key = i?.path.map(String).join('.') ?? '';
      const got = key in given ? `, got ${JSON.stringify(given[key])}` : '';
      return { error: `system ${name}: setting ${key || '(all)'}: ${i?.message}${got}` } as const;
    }
    const out = r.data as Record<string, unknown>;
    const dropped = Object.keys(given).filter((k) => !(k in out));
    if (dropped.length > 0) {
      return { error: `system ${name} has no setting ${dropped.join(', ')}` } as const;
    }
    return { settings: r.data as z.output<S> } as const;
  };
  const settingsOf = (given: Readonly<Record<string, string>>): z.output<S> => {
    const r = parseSettings(given);
    if ('error' in r) throw new SystemDefinitionError(r.error);
    return r.settings;
  };
  const launchContext = (ctx: LaunchContext): SystemLaunchContext<z.output<S>> => ({
    ...ctx,
    settings: settingsOf(ctx.settings),
    given: ctx.settings,
  });

  const recipe: SystemRecipe = {
    name,
    clockFaults: config.clockFaults ?? false,
    launch(ctx) {
      if (config.local === undefined) {
        throw new SystemDefinitionError(`system ${name} has no local launch: use --backend docker`);
      }
      return config.local.launch(launchContext(ctx));
    },
    healthy: (client) => config.healthy(client),
  };
  if (config.docker !== undefined && image !== undefined) {
    const dockerLaunch = config.docker.launch;
    recipe.docker =
      dockerLaunch === undefined
        ? { image }
        : { image, launch: (ctx) => dockerLaunch(launchContext(ctx)) };
  }
  const definition: SystemDefinition = {
    name,
    recipe: () => recipe,
    clients: { ...config.clients },
    backends: [
      // The ssh backend runs the local launch, with the files it names copied to the hosts.
      ...(config.local !== undefined ? ['local', 'ssh'] : []),
      ...(config.docker !== undefined ? ['docker'] : []),
    ],
    checkSettings(given) {
      const r = parseSettings(given);
      return 'error' in r ? r.error : undefined;
    },
    settingDefaults() {
      // Every setting the schema names (an object schema), with its default where it has one.
      const shape = (schema as { shape?: Record<string, unknown> }).shape ?? {};
      const r = parseSettings({});
      const defaults = 'error' in r ? {} : (r.settings as Record<string, unknown>);
      return { ...Object.fromEntries(Object.keys(shape).map((k) => [k, undefined])), ...defaults };
    },
  };
  const { replicationFactor, leader, membership, preflight } = config;
  if (replicationFactor !== undefined) {
    definition.replicationFactor = (given, nodes) => replicationFactor(settingsOf(given), nodes);
  }
  if (leader !== undefined) definition.leader = leader;
  if (membership !== undefined) definition.membership = membership;
  if (preflight !== undefined) definition.preflight = preflight;
  return definition;
}
