import type { Attributes } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type InstrumentTiercacheOptions, instrumentTiercache } from '../src/index.js';

/** A reader the test collects from when it wants, as a Prometheus scrape would. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The OpenTelemetry SDK, in memory: a MeterProvider with a reader the test collects from, and a tracer
 * provider whose finished spans land in an InMemorySpanExporter. Instruments tiercache over both.
 */
export function withTelemetry(
  options: Omit<InstrumentTiercacheOptions, 'meterProvider' | 'tracerProvider'> = {},
) {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const instrumentation = instrumentTiercache({ ...options, meterProvider, tracerProvider });
  return {
    instrumentation,
    tracerProvider,
    spans: () => exporter.getFinishedSpans(),
    /** Collects now and answers the data points of one metric, with their attributes. */
    async points<T = number>(name: string): Promise<Array<{ attributes: Attributes; value: T }>> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return pointsOf<T>(resourceMetrics, name);
    },
    async shutdown() {
      instrumentation.stop();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

function pointsOf<T>(resourceMetrics: ResourceMetrics, name: string) {
  const found: Array<{ attributes: Attributes; value: T }> = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints as Array<DataPoint<T>>) {
        found.push({ attributes: point.attributes, value: point.value });
      }
    }
  }
  return found;
}

/** The value of the one point whose attributes include `match`, or undefined if there is none. */
export function valueAt<T>(
  points: ReadonlyArray<{ attributes: Attributes; value: T }>,
  match: Attributes,
): T | undefined {
  const chosen = points.filter((point) =>
    Object.entries(match).every(([key, value]) => point.attributes[key] === value),
  );
  if (chosen.length > 1) throw new Error(`${chosen.length} points match ${JSON.stringify(match)}`);
  return chosen[0]?.value;
}

export type { Histogram };
