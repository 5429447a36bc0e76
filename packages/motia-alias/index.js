// @iii-dev/motia is the name the original Motia was published under: the same module as motia.
export * from 'motia'
