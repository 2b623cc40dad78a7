import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** Host names, node settings keys and the like: words safe in file names and messages. */
const word = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ -');

const HostSchema = z
  .object({
    /** How messages name the host (default: its address). */
    name: word.optional(),
    address: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(22),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user name')
      .default('root'),
    /** A private key file (relative paths: to the inventory file). */
    key: z.string().min(1).optional(),
    /** The environment variable holding the key's passphrase (never the passphrase itself). */
    passphraseEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    /** Authenticate through the ssh agent at SSH_AUTH_SOCK. */
    agent: z.boolean().default(false),
    /** Prefix privileged commands (iptables, tc) with `sudo -n` (for a non-root user). */
    sudo: z.boolean().default(false),
    /** Where runs keep their files on the host. */
    workDir: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path of plain characters')
      .default('/tmp/faultline-ssh'),
    /** Node settings for the node on this host, over the run's own. */
    settings: z.record(word, z.string()).default({}),
  })
  .strict()
  .refine((h) => h.key !== undefined || h.agent, {
    message: 'give a key file ("key") or use the ssh agent ("agent": true)',
  });

export const InventorySchema = z
  .object({
    /** The known_hosts file the hosts' keys are checked against (relative: to the inventory). */
    knownHosts: z.string().min(1),
    /** Accept (and record in knownHosts) keys of hosts it does not list. Off unless asked. */
    acceptUnknownHosts: z.boolean().default(false),
    /** Bound on connecting to a host and on each remote command, ms. */
    connectTimeoutMs: z.number().int().positive().default(10_000),
    commandTimeoutMs: z.number().int().positive().default(30_000),
    /**
     * Debian packages the system needs on every host, installed with apt-get at a cluster's
     * start where missing (root or sudo needed).
     */
    packages: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name'))
      .default([]),
    /** Node i of a run goes on hosts[i]: one node per host. */
    hosts: z.array(HostSchema).min(1),
  })
  .strict();

export type InventoryHost = z.infer<typeof HostSchema> & { name: string };
export type Inventory = Omit<z.infer<typeof InventorySchema>, 'hosts'> & { hosts: InventoryHost[] };

export class InventoryError extends Error {}

/** Which entry an issue path points into: `hosts[2] (h3)`, or the top-level field. */
function entryOf(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === 'hosts' && typeof path[1] === 'number') {
    const host = (raw as { hosts?: unknown[] }).hosts?.[path[1]] as
      | { name?: unknown; address?: unknown }
      | undefined;
    const label = typeof host?.name === 'string' ? host.name : host?.address;
    const field = path.slice(2).join('.');
    return `hosts[${path[1]}]${typeof label === 'string' ? ` (${label})` : ''}${field ? ` field ${field}` : ''}`;
  }
  return path.length === 0 ? 'the inventory' : `field ${path.join('.')}`;
}

/** Validates an inventory; `base` resolves relative paths. Errors name the entry at fault. */
export function parseInventory(raw: unknown, base: string, source = 'inventory'): Inventory {
  const parsed = InventorySchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${entryOf(raw, i.path)}: ${i.message}`);
    throw new InventoryError(`${source}: ${lines.join('; ')}`);
  }
  const inv = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const hosts = inv.hosts.map((h) => ({
    ...h,
    name: h.name ?? h.address,
    ...(h.key !== undefined ? { key: abs(h.key) } : {}),
  }));
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    for (const id of [`name ${h.name}`, `address ${h.address}:${h.port}`]) {
      const before = seen.get(id);
      if (before !== undefined) {
        throw new InventoryError(
          `${source}: hosts[${i}] (${h.name}): same ${id} as hosts[${before}]`,
        );
      }
      seen.set(id, i);
    }
  });
  return { ...inv, knownHosts: abs(inv.knownHosts), hosts };
}

/** Reads and validates an inventory file (JSON). */
export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InventoryError(`inventory ${file}: cannot read it: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InventoryError(`inventory ${file}: not JSON: ${(err as Error).message}`);
  }
  return parseInventory(raw, dirname(resolve(file)), `inventory ${file}`);
}
