// Preloaded (`node --import`) into the engine that `motia dev` starts. Motia hands the engine
// one end of a pipe as fd 3 and never writes to it; when Motia dies, however it dies (kill -9
// included), the kernel closes its end and this side reads end-of-file: the engine then stops
// as on SIGTERM (a clean shutdown), so no engine is left running without its motia.
import { Socket } from 'node:net'

if (process.env.MOTIA_ENGINE_WATCHDOG === '3') {
  let gone = false
  const parentGone = () => {
    if (gone) return
    gone = true
    process.kill(process.pid, 'SIGTERM')
  }
  try {
    const pipe = new Socket({ fd: 3, readable: true, writable: false })
    pipe.on('data', () => {})
    pipe.on('end', parentGone)
    pipe.on('close', parentGone)
    pipe.on('error', parentGone)
    pipe.unref()
  } catch (err) {
    process.stderr.write(
      `motia engine watchdog: cannot watch fd 3 (${err.message}); the engine will not stop with motia\n`,
    )
  }
}
