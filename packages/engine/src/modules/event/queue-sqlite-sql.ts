/**
 * The SQL of the embedded event queue (`queue-sqlite.ts`): its schema and its prepared
 * statements. Deliveries have state 0 (waiting), 1 (in flight) or 2 (dead); `due` is when a
 * waiting one is due, an in-flight one's lease deadline, or when a dead one failed.
 */
import type Database from 'better-sqlite3'

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  function_path TEXT NOT NULL,
  policy TEXT NOT NULL,
  fifo INTEGER NOT NULL,
  released_ms INTEGER,
  expired INTEGER NOT NULL DEFAULT 0,
  UNIQUE (topic, function_path)
);
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  data TEXT NOT NULL,
  grp TEXT,
  traceparent TEXT,
  baggage TEXT,
  created_ms INTEGER NOT NULL,
  remaining INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  sub INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  due INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  grp TEXT,
  first_ms INTEGER,
  error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state, sub, due);
CREATE INDEX IF NOT EXISTS deliveries_by_group ON deliveries (sub, grp, id) WHERE grp IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  PRIMARY KEY (topic, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency (expires_ms);
`

export interface SubRow {
  id: number
  fifo: number
}

export interface EventRow {
  topic: string
  data: string
  grp: string | null
  traceparent: string | null
  baggage: string | null
  created_ms: number
}

type StatementName =
  | 'subGet'
  | 'subUpsert'
  | 'subRelease'
  | 'subsOfTopic'
  | 'subsToExpire'
  | 'subExpire'
  | 'subReleaseAll'
  | 'idemGet'
  | 'idemPut'
  | 'idemPurge'
  | 'eventPut'
  | 'eventGet'
  | 'eventRelease'
  | 'eventDelete'
  | 'deliveryPut'
  | 'claimable'
  | 'claimableFifo'
  | 'claimOne'
  | 'remove'
  | 'removeMany'
  | 'eventReleaseBy'
  | 'retry'
  | 'kill'
  | 'killSub'
  | 'nextDue'
  | 'dead'
  | 'deadIds'
  | 'deadById'
  | 'redrive'
  | 'purgeable'
  | 'unlease'
  | 'recover'
  | 'stats'

/** A prepared statement (better-sqlite3). */
export type Statement = Database.Statement<unknown[], unknown>

/** The prepared statements of the queue, by name. */
export type Statements = Record<StatementName, Statement>

/** The prepared statements of the queue. */
export function prepare(db: Database.Database): Statements {
  const p = (sql: string): Statement => db.prepare(sql)
  return {
    subGet: p('SELECT id, fifo FROM subscriptions WHERE topic = ? AND function_path = ?'),
    subUpsert: p(
      `INSERT INTO subscriptions (topic, function_path, policy, fifo, released_ms, expired) VALUES (?, ?, ?, ?, NULL, 0)
       ON CONFLICT (topic, function_path) DO UPDATE SET policy = excluded.policy, fifo = excluded.fifo, released_ms = NULL, expired = 0`,
    ),
    subRelease: p(
      'UPDATE subscriptions SET released_ms = ? WHERE topic = ? AND function_path = ? AND released_ms IS NULL',
    ),
    subsOfTopic: p('SELECT id, fifo FROM subscriptions WHERE topic = ? AND expired = 0'),
    subsToExpire: p('SELECT id FROM subscriptions WHERE expired = 0 AND released_ms IS NOT NULL AND released_ms <= ?'),
    subExpire: p('UPDATE subscriptions SET expired = 1 WHERE id = ?'),
    subReleaseAll: p('UPDATE subscriptions SET released_ms = ? WHERE released_ms IS NULL'),
    idemGet: p('SELECT event_id FROM idempotency WHERE topic = ? AND key = ? AND expires_ms > ?'),
    idemPut: p('INSERT OR REPLACE INTO idempotency (topic, key, event_id, expires_ms) VALUES (?, ?, ?, ?)'),
    idemPurge: p('DELETE FROM idempotency WHERE expires_ms <= ?'),
    eventPut: p(
      'INSERT INTO events (id, topic, data, grp, traceparent, baggage, created_ms, remaining) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    eventGet: p('SELECT topic, data, grp, traceparent, baggage, created_ms FROM events WHERE id = ?'),
    eventRelease: p('UPDATE events SET remaining = remaining - 1 WHERE id = ? RETURNING remaining'),
    eventDelete: p('DELETE FROM events WHERE id = ?'),
    deliveryPut: p('INSERT INTO deliveries (sub, event_id, state, due, attempts, grp) VALUES (?, ?, 0, ?, 0, ?)'),
    // A claim reads the subscription's due rows through the index, then leases each by rowid.
    // (One `UPDATE ... WHERE id IN (SELECT ...) RETURNING` was 2-8x slower: 70-230 us per
    // subscription.) Without `due <= now`, the row after the due ones tells when the next is due.
    claimable: p(
      'SELECT id, due, event_id, attempts, first_ms FROM deliveries WHERE state = 0 AND sub = ? ORDER BY due, id LIMIT ?',
    ),
    claimableFifo: p(
      `SELECT d.id, d.due, d.event_id, d.attempts, d.first_ms FROM deliveries d
       WHERE d.state = 0 AND d.sub = ? AND d.due <= ?
         AND (d.grp IS NULL OR d.id = (SELECT MIN(e.id) FROM deliveries e
               WHERE e.sub = d.sub AND e.grp IS NOT NULL AND e.grp = d.grp AND e.state < 2))
       ORDER BY d.due, d.id LIMIT ?`,
    ),
    claimOne: p(
      'UPDATE deliveries SET state = 1, due = ?, attempts = attempts + 1, first_ms = COALESCE(first_ms, ?) WHERE id = ?',
    ),
    remove: p('DELETE FROM deliveries WHERE id = ? RETURNING event_id'),
    removeMany: p('DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?)) RETURNING event_id'),
    eventReleaseBy: p('UPDATE events SET remaining = remaining - ? WHERE id = ? RETURNING remaining'),
    retry: p(
      `UPDATE deliveries SET state = 0, due = ?, attempts = attempts - ?, error = COALESCE(?, error)
       WHERE id = ? AND state = 1 AND attempts = ?`,
    ),
    kill: p('UPDATE deliveries SET state = 2, due = ?, error = ? WHERE id = ? AND state = 1 AND attempts = ?'),
    killSub: p('UPDATE deliveries SET state = 2, due = ?, error = ? WHERE sub = ? AND state < 2'),
    nextDue: p('SELECT MIN(due) AS due FROM deliveries WHERE state = 0 AND sub = ? AND due > ?'),
    dead: p(
      `SELECT d.id, d.event_id, s.topic, s.function_path, e.data, d.error, d.attempts, d.first_ms, d.due, d.grp, e.traceparent
       FROM deliveries d JOIN subscriptions s ON s.id = d.sub JOIN events e ON e.id = d.event_id
       WHERE d.state = 2 AND d.id > @after AND (@topic IS NULL OR s.topic = @topic)
         AND (@fn IS NULL OR s.function_path = @fn)
       ORDER BY d.id LIMIT @limit`,
    ),
    deadIds: p(
      `SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.sub
       WHERE d.state = 2 AND (@topic IS NULL OR s.topic = @topic) AND (@fn IS NULL OR s.function_path = @fn)
       ORDER BY d.id`,
    ),
    deadById: p('SELECT id FROM deliveries WHERE id = ? AND state = 2'),
    redrive: p(
      'INSERT INTO deliveries (sub, event_id, state, due, attempts, grp) SELECT sub, event_id, 0, ?, 0, grp FROM deliveries WHERE id = ?',
    ),
    purgeable: p('SELECT id FROM deliveries WHERE state = 2 AND due <= ?'),
    unlease: p('UPDATE deliveries SET state = 0, due = ? WHERE state = 1 AND due <= ?'),
    recover: p('UPDATE deliveries SET state = 0, due = ? WHERE state = 1'),
    stats: p(
      `SELECT s.topic, s.function_path,
         IFNULL(SUM(d.state = 0 AND d.due <= @now), 0) AS pending,
         IFNULL(SUM(d.state = 1), 0) AS in_flight,
         IFNULL(SUM(d.state = 0 AND d.due > @now), 0) AS delayed,
         IFNULL(SUM(d.state = 2), 0) AS dead
       FROM subscriptions s LEFT JOIN deliveries d ON d.sub = s.id
       GROUP BY s.id ORDER BY s.topic, s.function_path`,
    ),
  }
}
