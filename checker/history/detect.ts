/**
 * Telling a history file's format (./detect-format.ts, which the readers import: it does without
 * zod) and the zod schema of a format option.
 */
import { z } from 'zod';
import { HISTORY_FORMATS } from './detect-format.js';

export * from './detect-format.js';

/** A format name or 'auto' (loadHistory checks the same with isHistoryFormatOption). */
export const historyFormatOptionSchema = z.enum(['auto', ...HISTORY_FORMATS]);
