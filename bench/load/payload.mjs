// Benchmark payloads: arrays of small records, about `bytes` long once serialized.
export function makePayload(bytes) {
  const items = []
  let size = 2
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item-${i}`, tags: ['a', 'b'], price: i * 1.5, ok: i % 2 === 0 }
    items.push(item)
    size += JSON.stringify(item).length + 1
  }
  return { items }
}
