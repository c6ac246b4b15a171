export { ATTRIBUTE, METRIC } from './conventions.js';
export type { InstrumentTiercacheOptions, TiercacheInstrumentation } from './instrument.js';
export { instrumentTiercache } from './instrument.js';
