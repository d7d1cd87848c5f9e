import { defineConfig } from 'vitest/config';

// The emulator's sources are loaded by Node itself (through tsx's loader), not by vitest's
// module transform: the transform turns every imported function into a getter on a namespace
// object, and the CPU's hot paths run about half as fast under it (11 vs 21 MIPS in
// bench/cpu.ts's program). Test files are still transformed; one instance of each src module.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--import', 'tsx/esm'] } },
    server: { deps: { external: [/\/src\/.*\.ts$/] } },
  },
});
