import type { ApiRequest, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'TodosPage',
  description: 'A page that shows the todos live (stream socket) and adds, completes and deletes them (HTTP)',
  triggers: [{ type: 'api', path: '/', method: 'GET' }],
  flows: ['todos'],
}

/** The stream socket: TODOS_STREAMS_URL, else the page's host on the engine's default port 3112. */
const streamsUrl = process.env.TODOS_STREAMS_URL ?? ''

export const handler = async (_req: ApiRequest) => ({
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: page(streamsUrl),
})

function page(streams: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Todos · Motia on iii</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #222 }
  h1 { font-size: 1.6rem } form { display: flex; gap: .5rem } input[name=title] { flex: 1; padding: .4rem }
  ul { list-style: none; padding: 0 } li { display: flex; gap: .6rem; align-items: center; padding: .35rem 0; border-bottom: 1px solid #eee }
  li.done span { text-decoration: line-through; color: #888 } li span { flex: 1 } button.del { border: 0; background: none; cursor: pointer }
  #status { font-size: .8rem; color: #888 } #stats { font-size: .85rem; color: #555 }
</style>
</head>
<body>
<h1>Todos</h1>
<p id="status">connecting…</p>
<form id="add"><input name="title" placeholder="What needs doing?" autocomplete="off" required><button>Add</button></form>
<ul id="list"></ul>
<p id="stats"></p>
<script type="module">
import { StreamClient } from '/assets/stream-client/index.js'

const url = ${JSON.stringify(streams)} || \`ws://\${location.hostname}:3112\`
const client = new StreamClient(url)
const todos = client.subscribeGroup('todos', 'inbox')
const list = document.getElementById('list')
client.onStatus((s) => { document.getElementById('status').textContent = 'live: ' + s })

todos.onChange((items) => {
  list.replaceChildren(...[...items].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(render))
  refreshStats()
})

function render(todo) {
  const li = document.createElement('li')
  li.dataset.id = todo.id
  li.className = todo.done ? 'done' : ''
  const box = document.createElement('input')
  box.type = 'checkbox'
  box.checked = todo.done
  box.onchange = () => call('PATCH', '/todos/' + todo.id, { done: box.checked })
  const text = document.createElement('span')
  text.textContent = todo.title
  const del = document.createElement('button')
  del.className = 'del'
  del.title = 'delete'
  del.textContent = '✕'
  del.onclick = () => call('DELETE', '/todos/' + todo.id)
  li.append(box, text, del)
  return li
}

async function call(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body && JSON.stringify(body) })
  if (!res.ok && res.status !== 404) alert((await res.json()).message ?? res.statusText)
}

async function refreshStats() {
  const s = await (await fetch('/stats')).json()
  document.getElementById('stats').textContent = \`created \${s.created ?? 0} · indexed \${s.indexed ?? 0} · completed \${s.completed ?? 0}\`
}

document.getElementById('add').onsubmit = async (e) => {
  e.preventDefault()
  const input = e.target.elements.title
  await call('POST', '/todos', { title: input.value })
  input.value = ''
}
</script>
</body>
</html>
`
}
