/** The package root (where package.json is). */
export const ROOT: string;
/** Top-level folders the build does not read. */
export const NOT_SOURCES: Set<string>;
export const SOURCE_FILES: string[];
export const DIST: string;
export const STAMP: string;
/** Every source file as `mtimeMs:size`, keyed by its path relative to `root`. */
export function sourceState(root?: string): Record<string, string>;
/** The compiled CLI entry when dist/ is a build of the sources as they are now, else undefined. */
export function currentBuild(root?: string): string | undefined;
/** Record that dist/ is a build of `sources`. */
export function writeStamp(sources: Record<string, string>, root?: string): void;
