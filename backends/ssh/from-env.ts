import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Backend, CAPABILITIES, type Capability } from '../../core/cluster.js';
import { loadInventory } from './inventory.js';
import { cleanInventory, createSshBackend, SSH_CAPABILITIES } from './ssh-backend.js';

/** Where `--inventory FILE` is handed to the backend registry. */
export const INVENTORY_ENV = 'FAULTLINE_SSH_INVENTORY';

const ProbeOutput = z.union([
  z.object({ capabilities: z.array(z.enum(CAPABILITIES)) }),
  z.object({ error: z.string() }),
]);

/**
 * The capabilities every host of the inventory has, probed now, synchronously (a child node
 * process does the SSH work). `{ error }` when the hosts could not be probed.
 */
export function probeSync(
  inventoryFile: string,
): { capabilities: Set<Capability> } | { error: string } {
  const inventory = loadInventory(inventoryFile);
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const script = fileURLToPath(
    new URL(ts ? './probe-main.ts' : './probe-main.js', import.meta.url),
  );
  if (!existsSync(script)) return { error: `${script} is missing` };
  const r = spawnSync(
    process.execPath,
    [...(ts ? ['--import', 'tsx'] : []), script, inventoryFile],
    {
      cwd: dirname(here),
      encoding: 'utf8',
      timeout: inventory.connectTimeoutMs + inventory.commandTimeoutMs + 10_000,
    },
  );
  const last = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    const parsed = ProbeOutput.parse(JSON.parse(last));
    return 'error' in parsed ? parsed : { capabilities: new Set(parsed.capabilities) };
  } catch {
    return {
      error: `the probe said nothing usable (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().slice(0, 300)}`,
    };
  }
}

/**
 * The ssh backend as the registry makes it: the inventory from FAULTLINE_SSH_INVENTORY (set by
 * `--inventory`). Its capabilities are probed on the hosts when first asked for; a failed probe
 * leaves the claim of everything the backend implements, and the cluster's start then fails
 * naming the host. Without an inventory it can start nothing and has nothing to clean.
 */
export function sshBackendFromEnv(env: NodeJS.ProcessEnv = process.env): Backend {
  const file = env[INVENTORY_ENV];
  if (file === undefined || file === '') {
    return {
      name: 'ssh',
      capabilities: SSH_CAPABILITIES,
      createCluster: async () => {
        throw new Error(
          'the ssh backend needs the hosts: --inventory FILE (see backends/ssh/README.md)',
        );
      },
      clean: async () => ({ removed: [] }),
    };
  }
  let probed: ReadonlySet<Capability> | undefined;
  const backend = createSshBackend({ inventory: file });
  return {
    name: 'ssh',
    get capabilities(): ReadonlySet<Capability> {
      if (probed === undefined) {
        const r = probeSync(file);
        probed = 'capabilities' in r ? r.capabilities : SSH_CAPABILITIES;
      }
      return probed;
    },
    createCluster: (options) => backend.createCluster(options),
    clean: async () => ({ removed: await cleanInventory(loadInventory(file)) }),
  };
}
