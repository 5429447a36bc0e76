/**
 * The console page: one self-contained HTML document with plain browser JavaScript (no build
 * step, no dependencies). It only calls `POST /api/invoke`; a built-in that this engine does not
 * have (`function_not_found`) shows as "not available" instead of failing the page. Pages:
 * workers, functions (invoke form), traces (list and waterfall), logs, dead letters. Every
 * write is an explicit button.
 */
export const consolePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iii console</title>
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
</style></head><body>
<nav><b>iii console</b>
<button data-page="workers">Workers</button><button data-page="functions">Functions</button>
<button data-page="traces">Traces</button><button data-page="logs">Logs</button><button data-page="deadletters">Dead letters</button></nav>
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
const main = document.getElementById('main')
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
    const timer = setInterval(() => { if (!document.body.contains(list)) clearInterval(timer); else load() }, 1000)
    await load()
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
    const { spans } = await call('traces.get', { trace_id: traceId })
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
