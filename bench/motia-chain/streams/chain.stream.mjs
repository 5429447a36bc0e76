export const config = { name: 'chain' }
