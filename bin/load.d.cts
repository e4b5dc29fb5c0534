// Types of bin/load.cjs for the TypeScript that calls it (offline/evaluate.ts, bench/cli.ts).
export declare const ROOT: string;
export declare const DIST: string;
export declare const STAMP: string;
export declare function digest(file: string): string;
export declare function distIsFresh(recheck?: boolean): boolean;
export declare function entryFile(rel: string): string;
export declare function registerTsNode(): void;
