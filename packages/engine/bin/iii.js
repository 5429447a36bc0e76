#!/usr/bin/env node
// The `iii` command. A committed file, so npm links the command at install time, before the
// package is built; it runs the engine's single-file bundle (dist/iii.mjs), which starts
// faster than the module tree tsc emits.
import '../dist/iii.mjs'
