// Types of native-backend.js (an electron-builder hook, plain JavaScript) for the tests.
export declare const GPU_PACKAGE: '@tensorflow/tfjs-node-gpu';
export declare const CPU_PACKAGE: '@tensorflow/tfjs-node';
export declare const EXCLUDE_ENV: 'FREEZELAB_NATIVE_EXCLUDE';

export declare function nativePackageFor(target: {
  platform: string;
  arch: string;
  gpuInstalled: boolean;
  host: { platform: string; arch: string };
}): { ship: string | null; exclude: string[] };

export declare function excludeGlob(packages: string[]): string;

export declare function nativeInstalled(appDir: string, pkg: string): boolean;

export default function beforePack(context: {
  electronPlatformName: string;
  arch: number;
  packager: { info: { appDir: string } };
}): Promise<void>;
