import { describe, expect, it } from 'vitest';
import { historyEventSchema } from './event.js';

describe('historyEventSchema', () => {
  it('accepts the DESIGN.md examples and keeps extra fields', () => {
    const e = historyEventSchema.parse({
      index: 1,
      time: 4310000,
      process: 3,
      type: 'ok',
      f: 'cas',
      key: 'k7',
      value: [1, 2],
      node: 'n2',
      ts: 99,
    });
    expect(e.node).toBe('n2');
    expect((e as Record<string, unknown>).ts).toBe(99);
  });
  it('rejects an unknown type, naming the field', () => {
    const r = historyEventSchema.safeParse({
      index: 0,
      time: 0,
      process: 1,
      type: 'done',
      f: 'read',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['type']);
  });
});
