#!/usr/bin/env node
// The `iii` command. A committed file, so npm links the command at install time, before the
// package is built; it runs the engine's single-file bundle (dist/iii.mjs), which starts
// faster than the module tree tsc emits.
//
// Launched by npm (`npx iii`, `npm exec iii`, an npm script), the engine runs under
// `npm -> sh -c iii -> node`, and a supervisor's SIGTERM reaches npm only: npm exits without
// passing it on and the engine would run on, re-parented to pid 1. So when npm launched it,
// the engine watches the processes that launched it (its parent and, when that is a shell,
// the shell's parent) and stops as on SIGTERM as soon as one of them is gone.
// III_WATCH_PARENT=0 turns the watch off; III_WATCH_PARENT=1 turns it on without npm.
import { readFileSync } from 'node:fs'

const watch = process.env.III_WATCH_PARENT ?? (process.env.npm_command !== undefined ? '1' : '0')
if (watch === '1') watchLaunchers()

import('../dist/iii.mjs')

function watchLaunchers() {
  const parent = process.ppid
  const grandparent = shellParent(parent)
  const alive = (pid) => {
    try {
      process.kill(pid, 0)
      return true
    } catch (err) {
      return err.code === 'EPERM'
    }
  }
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === null || alive(grandparent))) return
    clearInterval(timer)
    process.stderr.write('iii: the process that launched the engine is gone; stopping\n')
    process.kill(process.pid, 'SIGTERM')
  }, 200)
  timer.unref()
}

/** The parent of `pid` when `pid` is a shell (`sh -c iii`), else null. Linux only (/proc). */
function shellParent(pid) {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
    if (!['sh', 'bash', 'dash', 'zsh', 'ash'].includes(comm)) return null
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the `(comm)`: state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(ppid) && ppid > 1 ? ppid : null
  } catch {
    return null
  }
}
