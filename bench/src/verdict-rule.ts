import { median } from './measure.js';
import type { Metrics, Verdict } from './scenario.js';

/*
 * The one rule by which every verdict of the bench is met or not. A figure is the median over passes (one
 * process each), and `spread` says how far one process's figure wandered: (max − min) / median. A figure whose
 * spread is wider than its margin over the target could have landed on either side of it, so it is not met.
 *
 * Nearly every figure judged is a ratio of two subjects' medians, and its spread is the ratio's own, pass by
 * pass (see ratioSpread): both subjects of a pass run one after the other, while the whole machine drifts
 * between passes — in one run here every subject of a scenario ran 40 % slower in two passes of five, so each
 * figure spread over 40 % while the ratio of two of them moved by 6 %.
 */

/**
 * Spread of the chart metric over passes, (max − min) / median: how far one process's figure may wander. Only
 * with two passes or more.
 */
export const SPREAD_KEY = 'passSpread';

export type Target = NonNullable<Verdict['target']>;

/** Each subject's metrics in every pass, in pass order: pass i of one subject ran in pass i of every other. */
export type PassMetrics = Readonly<Record<string, readonly Metrics[]>>;

/** How far a subject's chart figure wandered over the passes, or undefined after one pass. */
export function spreadOf(metrics: Metrics | undefined): number | undefined {
  return metrics?.[SPREAD_KEY];
}

/** (max − min) / median of `values`: how far one pass's figure wandered. Undefined for fewer than two. */
export function spreadOfValues(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const middle = median(values);
  return middle === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / middle;
}

/**
 * The spread of the ratio of two subjects' `key` figures: that of the ratio taken pass by pass. Undefined with
 * fewer than two passes of both.
 */
export function ratioSpread(
  passes: PassMetrics,
  numerator: string,
  denominator: string,
  key: string,
): number | undefined {
  const above = passes[numerator] ?? [];
  const below = passes[denominator] ?? [];
  const ratios: number[] = [];
  for (let pass = 0; pass < Math.min(above.length, below.length); pass++) {
    ratios.push((above[pass]?.[key] as number) / (below[pass]?.[key] as number));
  }
  return spreadOfValues(ratios);
}

/** The spread over passes of one subject's `key` figure. */
export function passSpread(passes: PassMetrics, subject: string, key: string): number | undefined {
  return spreadOfValues((passes[subject] ?? []).map((metrics) => metrics[key] as number));
}

/**
 * Judges `value` against `target`. `margin` is how far past the target the value is, as a share of the value
 * itself (value 1.2 against ≥ 1: 0.167; negative: short of it), the same unit as a spread, which is a share of
 * its median: so "met" means the value, moved by its spread towards the target, still clears it. `spreads`: the
 * value's own (a ratio's from ratioSpread), or those of the figures it comes from: the widest is the one the
 * margin must beat. After one pass there is no spread, and the margin alone decides.
 * `holds` is any further condition of the verdict (every get answered, say): without it, not met.
 */
export function judge(
  value: number,
  target: Target,
  spreads: ReadonlyArray<number | undefined>,
  holds = true,
): Required<Pick<Verdict, 'target' | 'met' | 'margin'>> & Pick<Verdict, 'spread'> {
  const margin = (target.op === '>=' ? value - target.value : target.value - value) / value;
  const known = spreads.filter((spread): spread is number => spread !== undefined);
  const spread = known.length === 0 ? undefined : Math.max(...known);
  const met = holds && margin >= 0 && (spread === undefined || margin > spread);
  return spread === undefined ? { target, met, margin } : { target, met, margin, spread };
}

/** `412.3 k ops/s (spread 6.1%)`: a figure as a verdict's detail prints it, with how far it wandered. */
export function withSpread(figure: string, spread: number | undefined): string {
  return spread === undefined ? figure : `${figure} (spread ${percent(spread)})`;
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
