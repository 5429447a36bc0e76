// @iii-dev/motia is the name the original Motia was published under: the same module as motia.
// `declare module '@iii-dev/motia' { interface Topics {...} }` (motia generate-types) merges
// into motia's own interfaces through this re-export.
export * from 'motia'
