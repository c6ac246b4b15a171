import type { RedisTarget } from '../bench-redis.js';
import type { Entries } from '../generate-entries.js';
import type { TieredGetHitFactory } from './subject-contracts.js';
import { tiercacheTieredGetHit } from './tiercache-tiered.js';

/*
 * The tiered cache of tiered-l1-hit, with @tiercache/opentelemetry loaded and instrumentTiercache() called:
 * with no OpenTelemetry SDK (what an application gets when it installs the package but has not set up
 * telemetry, or runs where it is switched off), and with the SDK's MeterProvider recording every operation.
 */

async function instrumented(
  entries: Entries,
  capacity: number,
  target: RedisTarget,
  withSdk: boolean,
): ReturnType<TieredGetHitFactory> {
  const { instrumentTiercache } = await import('@tiercache/opentelemetry');
  let shutdown = async () => {};
  let meterProvider: import('@opentelemetry/api').MeterProvider | undefined;
  if (withSdk) {
    const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
    // A reader nobody collects from during the reads, as between two scrapes or exports.
    class IdleReader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const provider = new MeterProvider({ readers: [new IdleReader()] });
    meterProvider = provider;
    shutdown = () => provider.shutdown();
  }
  const telemetry = instrumentTiercache(meterProvider ? { meterProvider } : {});
  if (telemetry.metrics !== withSdk || telemetry.spans) {
    throw new Error(
      `expected metrics ${withSdk} and no spans, got ${telemetry.metrics} and ${telemetry.spans}`,
    );
  }
  const subject = await tiercacheTieredGetHit(entries, capacity, target);
  return {
    reader: subject.reader,
    close: async () => {
      telemetry.stop();
      await subject.close();
      await shutdown();
    },
  };
}

export const tiercacheTieredOtelNoSdk: TieredGetHitFactory = (entries, capacity, target) =>
  instrumented(entries, capacity, target, false);

export const tiercacheTieredOtelMetrics: TieredGetHitFactory = (entries, capacity, target) =>
  instrumented(entries, capacity, target, true);
