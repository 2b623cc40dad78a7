/**
 * `node probe-main.js INVENTORY`: probes every host of the inventory and prints
 * `{"capabilities":[...]}` or `{"error":"..."}` on stdout. Run by `probeSync`: the backend
 * registry wants a backend's capabilities before anything async can happen.
 */
import { loadInventory } from './inventory.js';
import { probeInventory } from './ssh-backend.js';

const file = process.argv[2] ?? '';
try {
  const caps = await probeInventory(loadInventory(file));
  process.stdout.write(`${JSON.stringify({ capabilities: [...caps] })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
}
process.exit(0);
