import type { Backend } from '../core/cluster.js';
import type { SystemDefinition } from '../core/system.js';
import { BUILTIN_KINDS } from '../nemesis/kinds/index.js';
import { parseNemesisSpec } from '../nemesis/schema.js';
import type { RegisteredWorkload } from '../workloads/index.js';

/** `k=v` pairs of a defaults record: "keys=3, mix={...}, fsync (no default)". */
function pairs(values: Readonly<Record<string, unknown>>): string {
  const shown = Object.entries(values).map(([k, v]) =>
    v === undefined ? `${k} (no default)` : `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return shown.length === 0 ? 'none' : shown.join(', ');
}

const indent = (lines: string[]) => lines.map((l) => `    ${l}`);

/**
 * What `faultline run --help` lists after the flags: every system, backend, workload and fault
 * kind this faultline knows, each with its settings and their defaults, read from the same
 * registries a run uses (so a new one shows up here by itself).
 */
export function catalogue(registries: {
  systems: ReadonlyMap<string, SystemDefinition>;
  backends: ReadonlyMap<string, () => Backend>;
  workloads: ReadonlyMap<string, RegisteredWorkload>;
}): string {
  const lines: string[] = [
    '',
    'Systems (--system NAME, or --system ./module.ts with defineSystem):',
  ];
  for (const s of registries.systems.values()) {
    lines.push(`  ${s.name}`);
    lines.push(
      ...indent([
        `client APIs: ${Object.keys(s.clients).join(', ')}`,
        `backends: ${s.backends?.join(', ') ?? 'any'}`,
        `settings (--system-opt k=v): ${pairs(s.settingDefaults?.() ?? {})}`,
      ]),
    );
  }
  lines.push('', 'Backends (--backend NAME):');
  for (const [name, make] of registries.backends) {
    lines.push(`  ${name}: can do ${[...make().capabilities].join(', ') || 'no fault'}`);
  }
  lines.push('', 'Workloads (--workload NAME, options with --workload-opt k=v):');
  for (const w of registries.workloads.values()) {
    lines.push(`  ${w.name}: ${w.description}`, ...indent([`options: ${pairs(w.defaults())}`]));
  }
  lines.push('', 'Fault kinds (--nemesis a,b,...; their settings in a config file `nemesis`):');
  const defaults = parseNemesisSpec({}) as Record<string, unknown>;
  for (const kind of BUILTIN_KINDS) {
    const settings = Object.fromEntries(Object.keys(kind.settings).map((k) => [k, defaults[k]]));
    lines.push(
      `  ${kind.name}: events ${kind.events.open} / ${kind.events.close}`,
      ...indent([`settings: ${pairs(settings)}`]),
    );
  }
  return lines.join('\n');
}
