import type { Turns } from './turns.js';
import type { PassMetrics } from './verdict-rule.js';
import type { Channel } from './worker-process.js';

/*
 * What a scenario is. A scenario lives in one file under scenarios/ and is listed in scenarios/index.ts; it has
 * two sides. `measure` runs in a child process that holds one subject and nothing else; `summarize` runs in the
 * parent, over the medians of every subject's passes, and adds the ratios and verdicts the report prints.
 */

/** How long and how carefully to measure. `smoke` only proves that everything still runs. */
export type ProfileName = 'full' | 'quick' | 'smoke';

/**
 * Why a subject is in a scenario, which decides its colour in the chart and what ratios are taken against it.
 * `ceiling`: faster than any real cache API can be, shown for scale. `floor`: the least a real async API costs.
 * `baseline`: the raw library tiercache builds on. `tiercache`: what we ship. `peer`: another cache library.
 */
/**
 * `floor`: what a figure is held to (the fastest floor of a scenario); `baseline`: a second yardstick named in a
 * verdict; `reference`: the least any implementation can do for a figure that has no raw equivalent, measured to
 * show what this machine allows; `ceiling`: for scale only.
 */
export type SubjectRole = 'ceiling' | 'floor' | 'baseline' | 'reference' | 'tiercache' | 'peer';

export interface SubjectDefinition {
  /** Shown in tables and charts, and how the parent tells a child what to run. */
  name: string;
  role: SubjectRole;
  /** The npm packages whose code is measured: their versions head the report. */
  packages: readonly string[];
  /** How the subject is configured and called, in code, so a reader can check it is used as intended. */
  setup: string;
}

/** What a child reports: named numbers only, so passes combine by taking the median of each. */
export type Metrics = Record<string, number>;

export interface Column {
  key: string;
  label: string;
  format(value: number): string;
  /** When one cell needs several metrics (a latency and whether the call hung), it is written from the row. */
  describe?(metrics: Metrics): string;
}

/** A figure the issue tracker cares about, with the comparison it was made against in the same run. */
export interface Verdict {
  /** One line, e.g. `tiercache memory get hit: 0.78 × floor (target ≥ 0.50)`. */
  text: string;
  value: number;
  comparedWith: string;
  target?: { op: '>=' | '<='; value: number };
  /** Present when there is a target; decided by `judge` in verdict-rule.ts, the bench's one rule. */
  met?: boolean;
  /** How far past the target the value is, relative to it (0.12: 12 % better than needed; negative: short). */
  margin?: number;
  /** The widest spread over passes of the figures the value comes from; absent after one pass. */
  spread?: number;
  /** The figures behind the ratio, printed after it. */
  detail?: string;
}

export interface ChartSpec {
  /** The metric drawn as bars. */
  key: string;
  /** Axis caption, e.g. `get hits per second (higher is better)`. */
  caption: string;
  format(value: number): string;
  /** A metric printed after the value in brackets, e.g. the ratio to the floor. */
  annotate?: { key: string; suffix: string };
  /** The text beside a bar, when it needs more than the value (e.g. `≥ 10 s hung`); replaces format and annotate. */
  label?(metrics: Metrics): string;
}

export interface ScenarioSummary {
  /** Metrics added to each subject's medians, such as ratios; keyed by subject name. */
  derived: Record<string, Metrics>;
  verdicts: Verdict[];
  /** Notes that depend on what was measured, such as the clock's own cost. */
  notes: string[];
}

export interface Scenario {
  name: string;
  /** One line: what is measured and on what data. */
  title: string;
  /** Method and caveats, printed under the table and kept in the JSON. */
  notes: readonly string[];
  subjects: readonly SubjectDefinition[];
  /**
   * Whether the child needs the run's Redis: the parent then starts one redis-server for the whole run (or uses
   * REDIS_URL) and passes its URL to every child (see bench-redis.ts).
   */
  needsRedis?: boolean;
  /**
   * Roles that run in worker processes started by the measuring child (see worker-process.ts), for scenarios
   * that need more than one process per subject. `args` is what the child passed to startWorker.
   */
  workers?: Readonly<Record<string, (channel: Channel, args: unknown) => Promise<void>>>;
  /** Child processes per subject: more passes average out a noisy neighbour. */
  passes: Readonly<Record<ProfileName, number>>;
  /**
   * Whether a pass runs its subjects interleaved: all their children at once, taking turns (see turns.ts),
   * instead of one child after another. `measure` must then do all its work inside `turns.take`.
   */
  interleaved?: boolean;
  /** The scenario's parameters for a profile, recorded in the JSON. */
  settings(profile: ProfileName): Readonly<Record<string, number | string>>;
  /**
   * Child side: measures one subject. Throws if the subject does not behave (a miss, a lost entry). `turns`:
   * when the child may work, in an interleaved scenario; every turn is its own otherwise.
   */
  measure(subject: string, profile: ProfileName, turns: Turns): Promise<Metrics>;
  columns: readonly Column[];
  chart: ChartSpec;
  /**
   * Parent side: ratios and verdicts from the median metrics of every subject, and from each pass's (for the
   * spread of a ratio: see ratioSpread).
   */
  summarize(medians: Readonly<Record<string, Metrics>>, passes: PassMetrics): ScenarioSummary;
}
