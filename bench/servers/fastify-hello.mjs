// B7 baseline: a Fastify hello-world that says "ready" once `listen` resolved.
import Fastify from 'fastify'

const app = Fastify()
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ port: 0, host: '127.0.0.1' })
console.log('ready')
