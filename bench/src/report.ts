import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Environment, packageLabels } from './environment.js';
import type { Column, Metrics, ProfileName, Scenario, SubjectRole, Verdict } from './scenario.js';
import { percent, SPREAD_KEY } from './verdict-rule.js';

/** One subject's figures: the medians over its passes plus ratios, and every pass as measured. */
export interface SubjectResult {
  name: string;
  role: SubjectRole;
  packages: readonly string[];
  setup: string;
  metrics: Metrics;
  passes: Metrics[];
}

export interface ScenarioResult {
  name: string;
  title: string;
  settings: Readonly<Record<string, number | string>>;
  passes: number;
  notes: string[];
  subjects: SubjectResult[];
  verdicts: Verdict[];
}

/** The JSON written to bench/results/. Bump `schema` when a field changes meaning. */
export interface RunReport {
  schema: 1;
  profile: ProfileName;
  environment: Environment;
  /**
   * Versions of the packages measured, as installed, keyed as the subjects list them: `lru-cache: "11.2.0"`,
   * and for an npm alias or a dependency's own copy, the real name too (`ioredis-5: "ioredis@5.11.1"`,
   * `@tiercache/backend-redis>ioredis: "ioredis@6.0.0"`).
   */
  packages: Record<string, string>;
  method: string[];
  durationSeconds: number;
  scenarios: ScenarioResult[];
}

function pad(text: string, width: number, alignRight: boolean): string {
  return alignRight ? text.padStart(width) : text.padEnd(width);
}

export function formatTable(scenario: Scenario, result: ScenarioResult): string {
  const columns: Column[] = [
    ...scenario.columns,
    ...(result.passes > 1 ? [{ key: SPREAD_KEY, label: 'spread', format: percent }] : []),
  ];
  const header = ['subject', 'role', ...columns.map((column) => column.label)];
  const rows = result.subjects.map((subject) => [
    subject.name,
    subject.role,
    ...columns.map((column) => {
      if (column.describe) return column.describe(subject.metrics);
      const value = subject.metrics[column.key];
      return value === undefined ? '–' : column.format(value);
    }),
  ]);
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => pad(cell, widths[i] as number, i >= 2)).join('   ')}`.trimEnd();
  return [line(header), line(widths.map((width) => '─'.repeat(width))), ...rows.map(line)].join('\n');
}

/**
 * `met (margin 12.0% > spread 8.1%)`: the outcome, and the margin and spread that decided it (both as shares of
 * the figure); a value short of its target says by how much, as a share of the target.
 */
function describeOutcome({ met, margin, spread, value, target }: Verdict): string {
  if (met === undefined) return '';
  const word = met ? 'met' : 'NOT MET';
  if (margin === undefined || target === undefined) return `: ${word}`;
  if (!(margin >= 0)) {
    return `: ${word} (short of the target by ${percent(Math.abs(value - target.value) / target.value)})`;
  }
  if (spread === undefined) return `: ${word} (margin ${percent(margin)}; one pass, no spread)`;
  return `: ${word} (margin ${percent(margin)} ${margin > spread ? '>' : '≤'} spread ${percent(spread)})`;
}

export function formatVerdict(verdict: Verdict): string {
  const outcome = describeOutcome(verdict);
  const detail = verdict.detail ? ` (${verdict.detail})` : '';
  return `  ${verdict.text}${outcome}${detail}`;
}

export function writeJson(path: string, report: RunReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

const ROLE_COLOURS: Record<SubjectRole, string> = {
  tiercache: '#2563eb',
  floor: '#4b5563',
  baseline: '#4b5563',
  reference: '#9ca3af',
  peer: '#0d9488',
  ceiling: '#d1d5db',
};

const ROLE_LEGEND: ReadonlyArray<[SubjectRole, string]> = [
  ['tiercache', 'tiercache'],
  ['floor', 'floor / raw library, same run'],
  ['reference', 'least any implementation does'],
  ['peer', 'peer library'],
  ['ceiling', 'for scale only'],
];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A horizontal bar chart, one panel per scenario, written by hand so it needs no chart library and renders the
 * same on GitHub, in an editor preview or in a browser.
 */
export function renderSvg(report: RunReport, scenarios: readonly Scenario[]): string {
  const margin = 24;
  // Wide enough for the longest subject name at 13px (about 7px a character).
  const longestName = Math.max(
    ...report.scenarios.flatMap((result) => result.subjects.map((s) => s.name.length)),
  );
  const labelWidth = Math.max(150, Math.ceil(longestName * 7));
  const width = 710 + labelWidth;
  const barX = margin + labelWidth + 12;
  const barMaxWidth = 420;
  const barHeight = 20;
  const rowGap = 8;
  const parts: string[] = [];
  let y = margin + 10;

  const text = (x: number, baseline: number, content: string, attributes = '') =>
    parts.push(`<text x="${x}" y="${baseline}"${attributes}>${escapeXml(content)}</text>`);

  const { environment } = report;
  text(margin, y, 'tiercache benchmarks', ' font-size="18" font-weight="600"');
  y += 20;
  text(
    margin,
    y,
    `${environment.date.slice(0, 10)} · Node ${environment.node} · ${environment.cpuModel} × ${environment.cores} cores · ${report.profile} run`,
    ' font-size="12" fill="#4b5563"',
  );
  y += 16;
  // A 12px line holds about 120 characters across the chart; wrapping at 100 leaves room for wider fonts.
  const versionLines: string[] = [];
  for (const item of packageLabels(report.packages)) {
    const last = versionLines.at(-1);
    if (last !== undefined && last.length + item.length + 3 <= 100) {
      versionLines[versionLines.length - 1] = `${last} · ${item}`;
    } else {
      versionLines.push(item);
    }
  }
  for (const line of versionLines) {
    text(margin, y, line, ' font-size="12" fill="#4b5563"');
    y += 16;
  }
  y += 2;

  for (const result of report.scenarios) {
    const scenario = scenarios.find((candidate) => candidate.name === result.name);
    if (!scenario) continue;
    const { chart } = scenario;
    y += 22;
    text(margin, y, result.name, ' font-size="15" font-weight="600"');
    y += 17;
    const passes = result.passes === 1 ? 'one pass' : `median of ${result.passes} passes`;
    text(margin, y, `${chart.caption} · ${passes}`, ' font-size="12" fill="#4b5563"');
    y += 12;
    const largest = Math.max(...result.subjects.map((subject) => subject.metrics[chart.key] ?? 0));
    for (const subject of result.subjects) {
      const value = subject.metrics[chart.key] ?? 0;
      const barWidth = largest > 0 ? Math.max(1, (value / largest) * barMaxWidth) : 1;
      const middle = y + barHeight / 2 + 4;
      text(barX - 10, middle, subject.name, ' font-size="13" text-anchor="end"');
      parts.push(
        `<rect x="${barX}" y="${y}" width="${barWidth.toFixed(1)}" height="${barHeight}" rx="2" fill="${ROLE_COLOURS[subject.role]}"/>`,
      );
      const annotation = chart.annotate ? subject.metrics[chart.annotate.key] : undefined;
      const label = chart.label
        ? chart.label(subject.metrics)
        : annotation === undefined || !chart.annotate
          ? chart.format(value)
          : `${chart.format(value)}  (${annotation.toFixed(2)} ${chart.annotate.suffix})`;
      text(barX + barWidth + 6, middle, label, ' font-size="12"');
      y += barHeight + rowGap;
    }
  }

  y += 14;
  let legendX = margin;
  for (const [role, label] of ROLE_LEGEND) {
    parts.push(
      `<rect x="${legendX}" y="${y - 10}" width="12" height="12" rx="2" fill="${ROLE_COLOURS[role]}"/>`,
    );
    text(legendX + 18, y, label, ' font-size="12" fill="#374151"');
    legendX += 18 + label.length * 6.6 + 22;
  }
  y += margin;

  const title = `tiercache benchmarks, ${report.profile} run of ${environment.date.slice(0, 10)}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" fill="#111827">`,
    ...parts,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}

export function writeSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
