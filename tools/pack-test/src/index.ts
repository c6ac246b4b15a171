export type { PublishedPackage, ShapeReport } from './packages.js';
export { checkShape, packAll, publishedPackages, workspaceRoot } from './packages.js';
