/**
 * The console page: one self-contained HTML document with plain browser JavaScript (no build
 * step, no dependencies). It calls `POST /api/invoke` and, for the HTTP request runner,
 * `POST /api/http`; a built-in that this engine does not have (`function_not_found`) shows as
 * "not available" instead of failing the page. Pages: workers, functions (invoke form), HTTP
 * runner, flow graph (derived from the triggers and the steps' declared emits), traces (list
 * and waterfall), logs, state and streams (refreshed every second), dead letters. Every write
 * is an explicit button.
 */
export const consolePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iii console</title><link rel="icon" href="data:,">
<style>
body{font:14px system-ui,sans-serif;margin:0;display:flex;min-height:100vh}
nav{background:#1e293b;color:#fff;padding:12px;width:160px}
nav button{display:block;width:100%;margin:4px 0;background:none;border:0;color:#cbd5e1;text-align:left;cursor:pointer;font:inherit}
nav button.on{color:#fff;font-weight:bold}
main{flex:1;padding:16px;overflow:auto}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
textarea{width:100%;min-height:80px;font-family:monospace}pre{background:#f1f5f9;padding:8px;white-space:pre-wrap}
.err{color:#b91c1c}
.lane{position:relative;height:14px;background:#f1f5f9;min-width:240px}.bar{position:absolute;top:2px;height:10px;background:#2563eb}
.bar.error{background:#dc2626}tr.error td.status{color:#b91c1c}a{color:#2563eb;cursor:pointer}
tr.changed td{background:#fef9c3}label{display:block;margin:6px 0}input.wide{width:100%;font-family:monospace}
.cols{display:flex;gap:16px}.cols>div{flex:1;min-width:0}.cols.browser>div:first-child{flex:0 0 200px}ul.pick{list-style:none;padding:0;margin:0}ul.pick li{padding:2px 0}ul.pick li.on a{font-weight:bold;color:#000}
svg.flow text{font:12px system-ui,sans-serif}svg.flow rect{fill:#fff;stroke:#64748b}svg.flow g.fn rect{fill:#dbeafe;stroke:#2563eb}
svg.flow g.topic rect{fill:#fef3c7;stroke:#d97706}svg.flow path{fill:none;stroke:#94a3b8;stroke-width:1.5}
</style></head><body>
<nav><b>iii console</b>
<button data-page="workers">Workers</button><button data-page="functions">Functions</button>
<button data-page="http">HTTP</button><button data-page="flow">Flow</button>
<button data-page="traces">Traces</button><button data-page="logs">Logs</button>
<button data-page="state">State</button><button data-page="streams">Streams</button><button data-page="deadletters">Dead letters</button></nav>
<main id="main"></main>
<script>
const token = new URLSearchParams(location.search).get('token')
async function call(function_path, data) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = 'Bearer ' + token
  const res = await fetch('/api/invoke', { method: 'POST', headers, body: JSON.stringify({ function_path, data: data || {} }) })
  const body = await res.json()
  if (body.error) { const e = new Error(body.error.message); e.code = body.error.code; throw e }
  return body.result
}
async function runHttp(request) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = 'Bearer ' + token
  const res = await fetch('/api/http', { method: 'POST', headers, body: JSON.stringify(request) })
  const body = await res.json()
  if (body.error) { const e = new Error(body.error.message); e.code = body.error.code; throw e }
  return body
}
const main = document.getElementById('main')
// Runs load() now and every second while el is on the page.
async function every(el, load) {
  let attached = false
  let idle = 0
  const timer = setInterval(() => { if (document.body.contains(el)) { attached = true; load() } else if (attached || ++idle > 5) clearInterval(timer) }, 1000)
  await load()
}
function pretty(text) { try { return JSON.stringify(JSON.parse(text), null, 2) } catch { return text } }
// Rows of JSON values keyed by id; a row whose value changed since the last refresh is marked.
function itemRows(table, entries, previous) {
  const next = new Map()
  const rows = entries.map(({ item_id: id, value }) => {
    const text = JSON.stringify(value)
    next.set(id, text)
    const changed = previous.size > 0 && previous.get(id) !== text
    return h('tr', { 'data-item': id, class: changed ? 'changed' : '' }, h('td', {}, id), h('td', {}, h('code', { class: 'value' }, text)))
  })
  table.replaceChildren(h('tr', {}, h('th', {}, 'item'), h('th', {}, 'value')), ...rows)
  return next
}
function pickList(names, current, onpick, attr) {
  return h('ul', { class: 'pick' }, names.map((n) => h('li', { class: n === current ? 'on' : '', [attr]: n }, h('a', { onclick: () => onpick(n) }, n))))
}
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) { if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v) }
  for (const k of kids.flat()) el.append(k instanceof Node ? k : String(k ?? ''))
  return el
}
function showError(err) {
  return h('p', { class: 'err', 'data-error': err.code || 'error' }, err.code === 'function_not_found' ? 'not available on this engine (' + err.message + ')' : err.code + ': ' + err.message)
}
function sample(format) {
  if (!format || typeof format !== 'object') return {}
  if (format.type === 'object' || format.properties) {
    const out = {}
    for (const [k, v] of Object.entries(format.properties || {})) out[k] = sample(v)
    return out
  }
  if (format.default !== undefined) return format.default
  return { string: '', number: 0, integer: 0, boolean: false, array: [] }[format.type] ?? null
}
const pages = {
  async workers() {
    const { workers } = await call('engine.workers.list')
    return h('table', { id: 'workers' }, h('tr', {}, h('th', {}, 'id'), h('th', {}, 'name'), h('th', {}, 'runtime'), h('th', {}, 'version'), h('th', {}, 'functions'), h('th', {}, 'in flight')),
      workers.map((w) => h('tr', { 'data-worker': w.id }, h('td', {}, w.id), h('td', {}, w.name), h('td', { class: 'runtime' }, w.runtime), h('td', {}, w.version), h('td', {}, Array.isArray(w.functions) ? w.functions.length : w.functions), h('td', {}, w.active_invocations))))
  },
  async functions() {
    const [{ functions }, { triggers }] = await Promise.all([call('engine.functions.list'), call('engine.triggers.list')])
    return h('table', { id: 'functions' }, functions.map((f) => {
      const input = h('textarea', { class: 'input' })
      input.value = JSON.stringify(sample(f.request_format), null, 2)
      const out = h('pre', { class: 'output' })
      const run = async () => {
        out.textContent = '...'
        try { out.textContent = JSON.stringify(await call(f.function_path, JSON.parse(input.value)), null, 2) } catch (err) { out.replaceChildren(showError(err)) }
      }
      const trig = triggers.filter((t) => t.function_path === f.function_path).map((t) => t.trigger_type + ' ' + JSON.stringify(t.config)).join('; ')
      return h('tr', { 'data-function': f.function_path }, h('td', {}, h('b', {}, f.function_path), h('div', {}, f.description), h('div', { class: 'triggers' }, trig)),
        h('td', {}, h('details', {}, h('summary', {}, 'invoke'), input, h('button', { class: 'invoke', onclick: run }, 'Invoke'), out)))
    }))
  },
  async traces() {
    const { enabled, traces } = await call('traces.list', { limit: 100 })
    if (enabled === false) return h('p', { id: 'tracing-off' }, 'tracing is off on this engine (start it with --tracing or --console)')
    if (traces.length === 0) return h('p', { id: 'no-traces' }, 'no traces yet')
    return h('table', { id: 'traces' }, h('tr', {}, h('th', {}, 'started'), h('th', {}, 'root'), h('th', {}, 'trigger'), h('th', {}, 'spans'), h('th', {}, 'ms'), h('th', {}, 'status')),
      traces.map((tr) => h('tr', { 'data-trace': tr.trace_id, class: tr.status },
        h('td', {}, new Date(tr.started_at_ms).toISOString()), h('td', {}, h('a', { class: 'open', onclick: () => showTrace(tr.trace_id) }, tr.name)),
        h('td', {}, tr.trigger_type || ''), h('td', {}, tr.span_count), h('td', {}, tr.duration_ms.toFixed(1)), h('td', { class: 'status' }, tr.status + (tr.error_code ? ' ' + tr.error_code : '')))))
  },
  // The HTTP request runner: api triggers to pick from, a request form, and the response with a
  // link to its trace (the console sends each request with a fresh traceparent).
  async http() {
    const [{ triggers }, { functions }] = await Promise.all([call('engine.triggers.list'), call('engine.functions.list')])
    const routes = triggers.filter((t) => t.trigger_type === 'api')
    const method = h('select', { id: 'http-method' }, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => h('option', {}, m)))
    const path = h('input', { id: 'http-path', class: 'wide', value: '/' })
    const headers = h('textarea', { id: 'http-headers' })
    headers.value = '{}'
    const body = h('textarea', { id: 'http-body' })
    const out = h('div', { id: 'http-response' })
    const use = (t) => {
      method.value = String(t.config.http_method || 'GET').toUpperCase()
      path.value = t.config.api_path
      const f = functions.find((x) => x.function_path === t.function_path)
      const sampleBody = f && f.request_format ? sample(f.request_format.body || f.request_format) : {}
      body.value = ['GET', 'HEAD', 'DELETE'].includes(method.value) ? '' : JSON.stringify(sampleBody, null, 2)
    }
    const send = async () => {
      out.replaceChildren(h('p', {}, '...'))
      let hdrs
      try { hdrs = JSON.parse(headers.value || '{}') } catch { return out.replaceChildren(h('p', { class: 'err' }, 'headers must be a JSON object')) }
      try {
        if (body.value !== '' && !Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['content-type'] = 'application/json'
        const r = await runHttp({ method: method.value, path: path.value, headers: hdrs, body: body.value === '' ? undefined : body.value })
        out.replaceChildren(h('p', {}, h('b', { id: 'http-status' }, r.status), ' in ' + r.duration_ms + ' ms, trace ', h('a', { id: 'http-trace', 'data-trace': r.trace_id, onclick: () => showTrace(r.trace_id) }, r.trace_id)),
          h('pre', { id: 'http-response-headers' }, Object.entries(r.headers).map(([k, v]) => k + ': ' + v).join('\\n')), h('pre', { id: 'http-response-body' }, pretty(r.body)))
      } catch (err) { out.replaceChildren(showError(err)) }
    }
    return h('div', {}, h('table', { id: 'routes' }, routes.map((t) => h('tr', { 'data-route': String(t.config.http_method || 'GET').toUpperCase() + ' ' + t.config.api_path },
      h('td', {}, h('a', { class: 'use', onclick: () => use(t) }, String(t.config.http_method || 'GET').toUpperCase() + ' ' + t.config.api_path)), h('td', {}, t.function_path)))),
      h('div', { class: 'cols' }, h('div', {}, h('label', {}, 'method ', method), h('label', {}, 'path', path), h('label', {}, 'headers (JSON)', headers), h('label', {}, 'body', body), h('button', { id: 'http-send', onclick: send }, 'Send')), h('div', {}, out)))
  },
  // The flow graph, derived from what is registered: each trigger links its source (a route, a
  // topic, a schedule, a state or stream change) to its function, and each function links to
  // the topics its metadata says it emits (Motia steps declare them), so no flows key is needed.
  async flow() {
    const [{ functions }, { triggers }] = await Promise.all([call('engine.functions.list'), call('engine.triggers.list')])
    const nodes = new Map()
    const edges = []
    const node = (id, label, kind) => { if (!nodes.has(id)) nodes.set(id, { id, label, kind }); return id }
    const source = (t) => {
      const c = t.config || {}
      if (t.trigger_type === 'api') return node('api:' + String(c.http_method || 'GET').toUpperCase() + ' ' + c.api_path, String(c.http_method || 'GET').toUpperCase() + ' ' + c.api_path, 'api')
      if (t.trigger_type === 'event') return node('topic:' + c.topic, c.topic, 'topic')
      if (t.trigger_type === 'cron') return node('cron:' + c.expression, 'cron ' + c.expression, 'cron')
      if (t.trigger_type === 'state') return node('state:' + (c.group_id || '*'), 'state ' + (c.group_id || '*'), 'state')
      if (t.trigger_type === 'stream') return node('stream:' + c.stream_name + '/' + (c.group_id || '*'), 'stream ' + c.stream_name + '/' + (c.group_id || '*'), 'stream')
      return node(t.trigger_type + ':' + t.id, t.trigger_type + ' ' + t.id, 'other')
    }
    // A Motia step's condition (<function>:condition) belongs to its step, not the graph.
    const paths = new Set(functions.map((f) => f.function_path))
    const conditionOf = (p) => { const m = /^(.*):condition(:[0-9]+)?$/.exec(p); return m && paths.has(m[1]) ? m[1] : null }
    const guarded = new Set(functions.map((f) => conditionOf(f.function_path)).filter(Boolean))
    const served = functions.filter((f) => f.workers > 0 && conditionOf(f.function_path) === null)
    for (const f of served) {
      const step = f.metadata && f.metadata.motia && f.metadata.motia.step
      node('fn:' + f.function_path, (step || f.function_path) + (guarded.has(f.function_path) ? ' (if)' : ''), 'fn')
    }
    for (const t of triggers) if (nodes.has('fn:' + t.function_path)) edges.push([source(t), 'fn:' + t.function_path])
    for (const f of served) {
      const emits = (f.metadata && f.metadata.motia && f.metadata.motia.emits) || []
      for (const e of emits) { const topic = typeof e === 'string' ? e : e && e.topic; if (topic) edges.push(['fn:' + f.function_path, node('topic:' + topic, topic, 'topic')]) }
    }
    if (nodes.size === 0) return h('p', { id: 'no-flow' }, 'no worker functions yet')
    // Columns: a node sits one column right of the furthest node that leads to it (cycles are cut).
    const col = new Map([...nodes.keys()].map((id) => [id, 0]))
    for (let round = 0; round < nodes.size; round++) {
      let moved = false
      for (const [a, b] of edges) if (col.get(b) < col.get(a) + 1 && col.get(a) + 1 < nodes.size) { col.set(b, col.get(a) + 1); moved = true }
      if (!moved) break
    }
    const columns = []
    for (const n of nodes.values()) (columns[col.get(n.id)] = columns[col.get(n.id)] || []).push(n)
    const W = 180, H = 28, GX = 40, GY = 12
    const pos = new Map()
    columns.forEach((list, x) => (list || []).forEach((n, y) => pos.set(n.id, { x: 10 + x * (W + GX), y: 10 + y * (H + GY) })))
    const NS = 'http://www.w3.org/2000/svg'
    const svg = (tag, attrs, ...kids) => { const el = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v); el.append(...kids); return el }
    const width = 20 + columns.length * (W + GX), height = 20 + Math.max(...columns.map((l) => (l || []).length)) * (H + GY)
    const lines = edges.map(([a, b]) => {
      const p = pos.get(a), q = pos.get(b)
      const x1 = p.x + W, y1 = p.y + H / 2, x2 = q.x, y2 = q.y + H / 2
      return svg('path', { class: 'edge', 'data-from': a, 'data-to': b, d: 'M' + x1 + ' ' + y1 + ' C' + (x1 + GX / 2) + ' ' + y1 + ' ' + (x2 - GX / 2) + ' ' + y2 + ' ' + x2 + ' ' + y2, 'marker-end': 'url(#arrow)' })
    })
    const boxes = [...nodes.values()].map((n) => {
      const p = pos.get(n.id)
      const label = n.label.length > 27 ? n.label.slice(0, 26) + '\u2026' : n.label
      return svg('g', { class: 'node ' + n.kind, 'data-node': n.id }, svg('title', {}, n.id.slice(n.id.indexOf(':') + 1)), svg('rect', { x: p.x, y: p.y, width: W, height: H, rx: 4 }), svg('text', { x: p.x + 8, y: p.y + 18 }, label))
    })
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }, svg('path', { d: 'M0 0 L10 5 L0 10 z', fill: '#94a3b8' })))
    return h('div', {}, svg('svg', { class: 'flow', id: 'flow', viewBox: '0 0 ' + width + ' ' + height, style: 'width:100%;max-width:' + width + 'px' }, defs, ...lines, ...boxes))
  },
  async state() {
    let group = null
    let previous = new Map()
    const groups = h('div', { id: 'state-groups' })
    const table = h('table', { id: 'state-items' })
    const itemId = h('input', { id: 'state-item', placeholder: 'item id' })
    const value = h('textarea', { id: 'state-value' })
    const note = h('p', { id: 'state-note' })
    const pick = (g) => { group = g; previous = new Map(); load() }
    const load = async () => {
      try {
        const names = await call('state.listGroups')
        groups.replaceChildren(names.length === 0 ? h('p', { id: 'no-state' }, 'no state yet') : pickList(names, group, pick, 'data-group'))
        if (group !== null) previous = itemRows(table, await call('state.getGroupEntries', { group_id: group }), previous)
      } catch (err) { groups.replaceChildren(showError(err)) }
    }
    const write = (fn, withValue) => async () => {
      if (group === null || itemId.value === '') return note.replaceChildren('pick a group and name an item first')
      try {
        await call(fn, withValue ? { group_id: group, item_id: itemId.value, data: JSON.parse(value.value) } : { group_id: group, item_id: itemId.value })
        note.replaceChildren(fn + ' ' + group + '/' + itemId.value + ' done')
        load()
      } catch (err) { note.replaceChildren(err instanceof SyntaxError ? 'the value is not JSON' : showError(err)) }
    }
    await every(table, load)
    return h('div', { class: 'cols browser' }, h('div', {}, h('b', {}, 'groups'), groups), h('div', {}, table,
      h('details', {}, h('summary', {}, 'edit an item'), itemId, value, h('button', { id: 'state-set', onclick: write('state.set', true) }, 'Set'), h('button', { id: 'state-delete', onclick: write('state.delete', false) }, 'Delete'), note)))
  },
  async streams() {
    let stream = null, group = null
    let previous = new Map()
    const names = h('div', { id: 'stream-names' })
    const groups = h('div', { id: 'stream-groups' })
    const table = h('table', { id: 'stream-items' })
    const pickStream = (s) => { stream = s; group = null; previous = new Map(); table.replaceChildren(); load() }
    const pickGroup = (g) => { group = g; previous = new Map(); load() }
    const load = async () => {
      try {
        const list = await call('streams.listStreams')
        names.replaceChildren(list.length === 0 ? h('p', { id: 'no-streams' }, 'no streams yet') : pickList(list, stream, pickStream, 'data-stream'))
        if (stream === null) return
        groups.replaceChildren(pickList(await call('streams.listGroups', { stream_name: stream }), group, pickGroup, 'data-group'))
        if (group !== null) {
          const items = await call('streams.getGroup', { stream_name: stream, group_id: group })
          previous = itemRows(table, items.map((v, i) => ({ item_id: v && typeof v.id === 'string' ? v.id : '#' + i, value: v })), previous)
        }
      } catch (err) { names.replaceChildren(showError(err)) }
    }
    await every(table, load)
    return h('div', { class: 'cols browser' }, h('div', {}, h('b', {}, 'streams'), names, h('b', {}, 'groups'), groups), h('div', {}, table))
  },
  async logs(traceId) {
    const filter = h('input', { id: 'trace-filter', placeholder: 'trace id' })
    if (traceId) filter.value = traceId
    const list = h('pre', { id: 'log-lines' })
    const load = async () => {
      try {
        const { logs } = await call('logs.list', filter.value ? { trace_id: filter.value, limit: 200 } : { limit: 200 })
        list.textContent = logs.map((l) => new Date(l.time_ms).toISOString() + ' ' + l.level + ' ' + (l.trace_id || '-') + ' ' + l.message).join('\\n')
      } catch (err) { list.replaceChildren(showError(err)) }
    }
    await every(list, load)
    return h('div', {}, filter, list)
  },
  async deadletters() {
    const { items } = await call('events.deadLetters.list', { limit: 100 })
    const act = (fn, id) => async () => { await call(fn, { id }); show('deadletters') }
    if (items.length === 0) return h('p', { id: 'no-dead-letters' }, 'no dead letters')
    return h('table', { id: 'dead-letters' }, items.map((d) => h('tr', { 'data-dead-letter': d.id }, h('td', {}, d.topic), h('td', {}, d.function_path), h('td', {}, d.error.code + ': ' + d.error.message), h('td', {}, d.attempts),
      h('td', {}, h('button', { class: 'redrive', onclick: act('events.deadLetters.redrive', d.id) }, 'Redrive'), h('button', { class: 'discard', onclick: act('events.deadLetters.discard', d.id) }, 'Discard')))))
  },
}
// A trace as a waterfall: one row per span in start order, indented under its parent, with a bar
// placed on the trace's time line; the runtime column says which worker (Node, Python) ran it.
async function showTrace(traceId) {
  main.setAttribute('data-page', 'trace')
  try {
    let { spans } = await call('traces.get', { trace_id: traceId })
    // A request just sent from the runner may still be finishing its spans.
    for (let i = 0; i < 20 && spans.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
      spans = (await call('traces.get', { trace_id: traceId })).spans
    }
    if (spans.length === 0) return main.replaceChildren(h('p', { id: 'no-spans' }, 'no spans recorded for trace ' + traceId + ' (is tracing on?)'))
    const t0 = Math.min(...spans.map((s) => s.start_ms))
    const total = Math.max(...spans.map((s) => s.start_ms + s.duration_ms)) - t0 || 1
    const depth = new Map()
    const ids = new Set(spans.map((s) => s.span_id))
    const sorted = spans.slice().sort((a, b) => a.start_ms - b.start_ms)
    for (const s of sorted) depth.set(s.span_id, s.parent_span_id && ids.has(s.parent_span_id) ? (depth.get(s.parent_span_id) ?? 0) + 1 : 0)
    const rows = sorted.map((s) => {
      const a = s.attributes || {}
      const bar = h('div', { class: 'bar ' + s.status, style: 'left:' + ((s.start_ms - t0) / total * 100).toFixed(2) + '%;width:' + Math.max(s.duration_ms / total * 100, 0.5).toFixed(2) + '%' })
      return h('tr', { 'data-span': s.span_id, class: s.status },
        h('td', { style: 'padding-left:' + (8 + 16 * depth.get(s.span_id)) + 'px' }, s.name), h('td', { class: 'kind' }, s.kind),
        h('td', { class: 'runtime' }, a['iii.worker.runtime'] || 'engine'), h('td', {}, a['iii.attempt'] > 1 ? 'attempt ' + a['iii.attempt'] : ''),
        h('td', {}, s.duration_ms.toFixed(1) + ' ms'), h('td', { class: 'status' }, s.status + (s.error_code ? ' ' + s.error_code : '')), h('td', {}, h('div', { class: 'lane' }, bar)))
    })
    main.replaceChildren(h('div', {}, h('p', {}, h('a', { onclick: () => show('traces') }, '< traces'), ' trace ', h('code', { id: 'trace-id' }, traceId), ' ', h('a', { id: 'trace-logs', onclick: () => show('logs', traceId) }, 'logs of this trace')),
      h('table', { id: 'waterfall' }, h('tr', {}, h('th', {}, 'span'), h('th', {}, 'kind'), h('th', {}, 'runtime'), h('th', {}, ''), h('th', {}, 'duration'), h('th', {}, 'status'), h('th', {}, 'time line')), rows)))
  } catch (err) { main.replaceChildren(showError(err)) }
}
async function show(name, arg) {
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('on', b.dataset.page === name)
  main.setAttribute('data-page', name)
  try { main.replaceChildren(await pages[name](arg)) } catch (err) { main.replaceChildren(showError(err)) }
}
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.page))
show('workers')
</script></body></html>
`
