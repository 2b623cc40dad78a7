import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/ssh-testbed.sh', import.meta.url));

/**
 * A testbed of its own for one test file (its own name, subnet and state dir), so files
 * running side by side do not take each other's hosts down.
 */
export function testbed(name: string, net: string, hosts: number) {
  const env = {
    ...process.env,
    FAULTLINE_SSH_TESTBED_NAME: name,
    FAULTLINE_SSH_TESTBED_NET: net,
  };
  return {
    /** Brings it up; the inventory file's path. */
    up(): string {
      const out = execFileSync('sh', [SCRIPT, 'up', String(hosts)], { env, encoding: 'utf8' });
      return out.trim().split('\n').at(-1) ?? '';
    },
    down(): void {
      execFileSync('sh', [SCRIPT, 'down'], { env, stdio: 'ignore' });
    },
  };
}
