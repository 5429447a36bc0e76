// Bundles the `iii` command into one file, dist/iii.mjs: loading one module instead of a few
// hundred is most of the engine's cold start. better-sqlite3 stays outside (a native addon), and so does OpenTelemetry (loaded only with tracing on).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
await build({
  entryPoints: [join(pkg, 'src/cli.ts')],
  outfile: join(pkg, 'dist/iii.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // OpenTelemetry is imported at run time only when tracing is on (modules/observability/otel.ts).
  external: ['better-sqlite3', '@opentelemetry/*', 'prom-client'],
  // Bundled CommonJS dependencies (ws, find-my-way) call require() for node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
})
