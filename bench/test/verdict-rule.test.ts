import { describe, expect, it } from 'vitest';
import { formatVerdict } from '../src/report.js';
import { judge, passSpread, ratioSpread } from '../src/verdict-rule.js';

describe('judge, the one rule for a target', () => {
  it('meets a figure that clears its target by more than the widest spread', () => {
    expect(judge(1.2, { op: '>=', value: 1 }, [0.05, 0.1])).toMatchObject({ met: true, spread: 0.1 });
    expect(judge(0.8, { op: '<=', value: 1 }, [0.1])).toMatchObject({ met: true });
  });

  it('does not meet a figure whose spread is wider than its margin over the target', () => {
    const judged = judge(1.05, { op: '>=', value: 1 }, [0.02, 0.08]);
    expect(judged.met).toBe(false);
    expect(judged.margin).toBeCloseTo(0.05 / 1.05);
    expect(judge(0.95, { op: '<=', value: 1 }, [0.06]).met).toBe(false);
    // Margin and spread are both shares of the figure: 1.1 moved down by 10 % is 0.99, short of 1.
    expect(judge(1.1, { op: '>=', value: 1 }, [0.1]).met).toBe(false);
    // A figure far under an absolute target is met even if it wanders by more than itself.
    expect(judge(0.005, { op: '<=', value: 1 }, [1.6]).met).toBe(true);
  });

  it('does not meet a figure short of its target, nor one whose further condition fails', () => {
    expect(judge(0.9, { op: '>=', value: 1 }, []).met).toBe(false);
    expect(judge(Number.NaN, { op: '<=', value: 1 }, []).met).toBe(false);
    expect(judge(2, { op: '>=', value: 1 }, [0], false).met).toBe(false);
  });

  it('lets the margin alone decide after one pass, and says so', () => {
    const judged = judge(1.25, { op: '>=', value: 1 }, [undefined, undefined]);
    expect(judged).toEqual({ target: { op: '>=', value: 1 }, met: true, margin: 0.2 });
    expect(formatVerdict({ text: 'x: 1.25 × y', value: 1.25, comparedWith: 'y', ...judged })).toBe(
      '  x: 1.25 × y: met (margin 20.0%; one pass, no spread)',
    );
  });

  it('prints the margin beside the spread, or how far short of the target the value is', () => {
    const verdict = (value: number, spread: number) => ({
      text: 'x',
      value,
      comparedWith: 'y',
      ...judge(value, { op: '>=', value: 1 }, [spread]),
    });
    expect(formatVerdict(verdict(1.25, 0.1))).toBe('  x: met (margin 20.0% > spread 10.0%)');
    expect(formatVerdict(verdict(1.25, 0.3))).toBe('  x: NOT MET (margin 20.0% ≤ spread 30.0%)');
    expect(formatVerdict(verdict(0.8, 0.1))).toBe('  x: NOT MET (short of the target by 20.0%)');
  });
});

describe('ratioSpread, the spread of a ratio of two subjects', () => {
  const passesOf = (figures: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(figures).map(([name, values]) => [name, values.map((opsPerSec) => ({ opsPerSec }))]),
    );

  it('takes the ratio pass by pass, so a drift of the whole machine between passes leaves it alone', () => {
    // Both subjects ran 40 % slower in the last two passes; their ratio held at 0.98–1.02.
    const passes = passesOf({ a: [8.3, 8.1, 8.3, 5.0, 5.1], b: [8.4, 7.9, 8.5, 5.0, 5.2] });
    const spread = ratioSpread(passes, 'a', 'b', 'opsPerSec') as number;
    expect(spread).toBeGreaterThan(0.03);
    expect(spread).toBeLessThan(0.06);
    expect(judge(0.99, { op: '>=', value: 0.9 }, [spread]).met).toBe(true);
  });

  it('shows one subject disturbed in one pass, whichever it is', () => {
    const steady = [10, 10, 10, 10, 10];
    const disturbed = [10, 10, 6, 10, 10];
    expect(ratioSpread(passesOf({ a: disturbed, b: steady }), 'a', 'b', 'opsPerSec')).toBeCloseTo(0.4);
    expect(ratioSpread(passesOf({ a: steady, b: disturbed }), 'a', 'b', 'opsPerSec')).toBeCloseTo(
      (10 / 6 - 1) / 1,
    );
  });

  it('has no spread with fewer than two passes of both subjects', () => {
    expect(ratioSpread(passesOf({ a: [1], b: [2] }), 'a', 'b', 'opsPerSec')).toBeUndefined();
    expect(ratioSpread(passesOf({ a: [1, 2] }), 'a', 'missing', 'opsPerSec')).toBeUndefined();
  });
});

describe('passSpread, the spread of one figure over passes', () => {
  it('is (max − min) / median of the figure in each pass, and undefined after one pass', () => {
    const passes = { a: [0.96, 0.93, 0.99].map((getOrSetToGet) => ({ getOrSetToGet })) };
    expect(passSpread(passes, 'a', 'getOrSetToGet')).toBeCloseTo(0.06 / 0.96);
    expect(passSpread({ a: [{ getOrSetToGet: 1 }] }, 'a', 'getOrSetToGet')).toBeUndefined();
  });
});
