#!/usr/bin/env node
// The `motia` command. A committed file (not dist/cli.js itself), so npm links the command
// at install time, before the package is built.
import '../dist/cli.js'
