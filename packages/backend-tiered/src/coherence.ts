import {
  type CacheLogger,
  type ChangeFeed,
  type CoherenceMode,
  DriverError,
  publishEvent,
} from '@tiercache/core';

/** What the user asked for: a mode, or `auto` (the best L2's feed offers). */
export type CoherenceChoice = 'auto' | CoherenceMode;

/**
 * The coherence mode a tiered cache is in, decided from what L2's change feed hears: reported on the seam
 * (a `coherence` event) and in the logger, once decided and again only when it changes. When the mode asked
 * for is not available, {@link unavailable} is the error every call fails with.
 */
export class Coherence {
  readonly #backend: string;
  readonly #keyPrefix: string;
  readonly #required: CoherenceChoice;
  readonly #logger: CacheLogger;
  #mode: CoherenceMode | undefined;
  #unavailable: DriverError | undefined;

  constructor(backend: string, keyPrefix: string, required: CoherenceChoice, logger: CacheLogger) {
    this.#backend = backend;
    this.#keyPrefix = keyPrefix;
    this.#required = required;
    this.#logger = logger;
  }

  /** The mode in force, once known. */
  get mode(): CoherenceMode | undefined {
    return this.#mode;
  }

  /** Why calls must fail now: the mode required is not available. */
  get unavailable(): DriverError | undefined {
    return this.#unavailable;
  }

  /** There is no feed to listen to: `ttl` asked for, or L2 has none. */
  noFeed(l2Name: string): void {
    if (this.#required === 'ttl') {
      this.#decide('ttl', "coherence: 'ttl' was asked for");
      return;
    }
    const why = `${l2Name} has no change feed`;
    if (this.#required !== 'auto') this.#unavailable = this.#refusal(why);
    this.#decide('ttl', why);
  }

  /**
   * The feed is armed and hears what `feed.hears` says (`reason`: why less than everything). Answers whether
   * L1 may be filled: not while `tracking` is required and the feed hears announced changes only.
   */
  armed(feed: ChangeFeed, reason: string | undefined): boolean {
    const hearsAll = feed.hears === 'all';
    const mode: CoherenceMode = hearsAll ? 'tracking' : 'announce';
    let why: string;
    if (hearsAll) why = 'the change feed hears every change';
    else if (this.#required === 'announce') why = "coherence: 'announce' was asked for";
    else why = `the change feed hears announced changes only: ${reason ?? 'tracking is switched off'}`;
    this.#unavailable =
      this.#required === 'tracking' && !hearsAll
        ? this.#refusal(reason ?? 'the change feed hears announced changes only')
        : undefined;
    this.#decide(mode, why);
    return this.#unavailable === undefined;
  }

  #refusal(why: string): DriverError {
    return new DriverError(
      'BACKEND',
      `coherence '${this.#required}' is required, but it is not available: ${why}`,
    );
  }

  #decide(mode: CoherenceMode, reason: string): void {
    if (this.#mode === mode) return;
    this.#mode = mode;
    const backend = this.#backend;
    publishEvent(() => ({ backend, type: 'coherence', mode, reason }));
    const fields = { backend, keyPrefix: this.#keyPrefix, coherence: mode, reason };
    const logger = this.#logger;
    if (this.#unavailable) logger.warn(fields, `tiercache: ${this.#unavailable.message}`);
    else if (mode === 'tracking') logger.info(fields, 'tiercache: L1 is kept coherent by key tracking');
    else if (mode === 'announce') {
      logger.warn(
        fields,
        "tiercache: L1 hears only tiercache writers' changes; other changes show within l1Ttl",
      );
    } else logger.info(fields, 'tiercache: L1 is bounded by l1Ttl alone');
  }
}
