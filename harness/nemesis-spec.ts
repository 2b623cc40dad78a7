/**
 * The nemesis part of a test spec is the nemesis module's own schema (faults as data live in
 * `nemesis/`); this file is the seam the spec imports.
 */
export type { NemesisSpec, NemesisSpecInput } from '../nemesis/schema.js';
export { NemesisSpecSchema as nemesisSpecSchema } from '../nemesis/schema.js';
