import { describe, expect, it } from 'vitest';
import { formatVerdict } from '../src/report.js';
import { judge } from '../src/verdict-rule.js';

describe('judge, the one rule for a target', () => {
  it('meets a figure that clears its target by more than the widest spread', () => {
    expect(judge(1.2, { op: '>=', value: 1 }, [0.05, 0.1])).toMatchObject({ met: true, spread: 0.1 });
    expect(judge(0.8, { op: '<=', value: 1 }, [0.1])).toMatchObject({ met: true });
  });

  it('does not meet a figure whose spread is wider than its margin over the target', () => {
    const judged = judge(1.05, { op: '>=', value: 1 }, [0.02, 0.08]);
    expect(judged.met).toBe(false);
    expect(judged.margin).toBeCloseTo(0.05);
    expect(judge(0.95, { op: '<=', value: 1 }, [0.06]).met).toBe(false);
  });

  it('does not meet a figure short of its target, nor one whose further condition fails', () => {
    expect(judge(0.9, { op: '>=', value: 1 }, []).met).toBe(false);
    expect(judge(2, { op: '>=', value: 1 }, [0], false).met).toBe(false);
  });

  it('lets the margin alone decide after one pass, and says so', () => {
    const judged = judge(1.01, { op: '>=', value: 1 }, [undefined, undefined]);
    expect(judged).toEqual({ target: { op: '>=', value: 1 }, met: true, margin: expect.closeTo(0.01) });
    expect(formatVerdict({ text: 'x: 1.01 × y', value: 1.01, comparedWith: 'y', ...judged })).toBe(
      '  x: 1.01 × y: met (margin 1.0%; one pass, no spread)',
    );
    expect(
      formatVerdict({
        text: 'x',
        value: 1.05,
        comparedWith: 'y',
        ...judge(1.05, { op: '>=', value: 1 }, [0.08]),
      }),
    ).toBe('  x: NOT MET (margin 5.0% ≤ spread 8.0%)');
  });
});
