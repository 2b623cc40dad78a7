import { describe, expect, it } from 'vitest';
import { closureOf, KNOWN_ANOMALIES, relevantAnomalies } from './anomalies.js';
import { forbiddenBy, modelName, modelsRuledOut } from './models.js';

describe('anomalies and models', () => {
  it('derives what an anomaly shows', () => {
    expect([...closureOf('G0')]).toEqual(
      expect.arrayContaining(['G1c', 'G1', 'G0-process', 'G0-realtime', 'G1c-realtime']),
    );
    expect(closureOf('G2-item').has('G1')).toBe(false);
    expect(closureOf('lost-update').has('G2')).toBe(true);
  });

  it('checks what implies the targets', () => {
    expect([...relevantAnomalies(['G1'])].sort()).toEqual([
      'G0',
      'G1a',
      'G1b',
      'G1c',
      'dirty-update',
      'future-read',
      'incompatible-order',
    ]);
    expect(relevantAnomalies(forbiddenBy('read-uncommitted')).has('G1c')).toBe(false);
    expect(relevantAnomalies(forbiddenBy('strict-serializable')).has('G2-item-realtime')).toBe(
      true,
    );
  });

  it('names the weakest models ruled out apart from the rest', () => {
    expect(modelsRuledOut(['G2-item'])).toEqual({
      not: ['repeatable-read'],
      alsoNot: ['serializable', 'strong-session-serializable', 'strict-serializable'],
    });
    expect(modelsRuledOut(['G1a']).not).toEqual(['read-committed']);
    expect(modelsRuledOut(['G-nonadjacent']).not).toEqual([
      'snapshot-isolation',
      'repeatable-read',
    ]);
    expect(modelsRuledOut(['G-single-realtime'])).toEqual({
      not: ['strict-serializable'],
      alsoNot: [],
    });
    expect(modelsRuledOut(['lost-update']).not).toEqual(['cursor-stability', 'snapshot-isolation']);
    expect(modelsRuledOut([])).toEqual({ not: [], alsoNot: [] });
  });

  it('knows the Adya names of models, and every name it accepts', () => {
    expect(modelName('PL-2.99')).toBe('repeatable-read');
    expect(modelName(':serializable')).toBe('serializable');
    expect(modelName('sequential')).toBeUndefined();
    expect(KNOWN_ANOMALIES).toEqual(expect.arrayContaining(['G1', 'G2', 'G-nonadjacent']));
  });
});
