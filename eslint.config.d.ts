// Types of what eslint.config.js exports besides the config: the layer tables that test/unit/layers.test.ts checks.
export declare const MAIN_LAYERS: string[][];
export declare const ML_WINGS: string[][];
declare const config: unknown[];
export default config;
