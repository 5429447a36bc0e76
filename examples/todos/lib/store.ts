/** Where todos are kept: one stream group, so a browser can follow the whole list. */
export const GROUP = 'inbox'

/** Counters in state group `todos-stats`, item `counts`. */
export const STATS = ['todos-stats', 'counts'] as const
