/** Kept so that imports of the old path keep working: the module contracts are in `module.ts`. */
export * from './module.js'
