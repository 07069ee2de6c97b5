// One WebSocket to /v1/ws carrying every subscription, resumed from the last cursor.
//
// The gateway sends each `events` frame with the cursor just past it ("<epoch>/<o0>.<o1>..."),
// so after a disconnect each subscription is sent again with `from` = its last cursor: the
// gateway replays exactly what was missed, with no gap and no duplicate. When it cannot
// (another epoch, retention dropped the offsets) it answers `recovered: false` and the owner of
// the subscription is told, so it can start over from a fresh snapshot, never silently partial.
//
// Connection states (transition() throws on any other move):
//
//   IDLE ──▶ CONNECTING ──open──▶ LIVE
//               ▲  │                │ close / silence
//               │  ▼ close          ▼
//               └─ RECONNECTING ◀───┘
//   CONNECTING, LIVE ──4401──▶ UNAUTHORIZED ──new key──▶ CONNECTING
//   LIVE ──new key──▶ CONNECTING
//   any ──stop()──▶ STOPPED ──start()──▶ CONNECTING

export const State = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  UNAUTHORIZED: "unauthorized",
  STOPPED: "stopped",
});

const MOVES = {
  idle: ["connecting", "stopped"],
  connecting: ["live", "reconnecting", "unauthorized", "stopped"],
  live: ["connecting", "reconnecting", "unauthorized", "stopped"],
  reconnecting: ["connecting", "stopped"],
  unauthorized: ["connecting", "stopped"],
  stopped: ["connecting", "stopped"],
};

/** The state after moving from `current` to `target`; throws on a move not drawn above. */
export function transition(current, target) {
  if (!MOVES[current] || !MOVES[current].includes(target)) {
    throw new Error(`the connection cannot go from ${current} to ${target}`);
  }
  return target;
}

/** Whether a cursor "<epoch>/<o0>.<o1>..." is at or past every offset in `end` (null: yes). */
export function reached(cursor, end) {
  if (!end) return true;
  const offsets = cursor.slice(cursor.indexOf("/") + 1).split(".").map(Number);
  return end.every((offset, partition) => (offsets[partition] ?? 0) >= offset);
}

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TOO_MANY = 4429;
const PING_EVERY_MS = 10_000;
const SILENCE_LIMIT_MS = 25_000;

/**
 * A multiplexed, resuming subscriber.
 *
 * handlers: {
 *   url(): the WebSocket URL (with ?key= when there is a key),
 *   state(state, detail): the connection changed state,
 *   events(sub, events): a frame of events of subscription `sub`,
 *   gap(sub, reason): `sub` could not resume; its owner must drop what it holds,
 *   refused(sub, problem): the gateway refused `sub` (no scope, unknown stream),
 * }
 */
export class StreamClient {
  constructor(handlers) {
    this.handlers = handlers;
    this.state = State.IDLE;
    this.subs = new Map();
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
  }

  /**
   * Follow `stream` under the name `sub`. `initial()` gives the first `from` (a cursor,
   * "earliest", "latest" or "P:O,..."); after that the client resumes from its own cursor.
   * `target()` gives the stream's end offsets when it was first subscribed: until the cursor
   * reaches them, frames are the initial snapshot, not news (events() says which).
   */
  add(sub, stream, initial, target = () => null) {
    this.subs.set(sub, {
      sub, stream, initial, target, position: null, resetting: false, refused: false,
      end: null, caughtUp: false,
    });
    if (this.state === State.LIVE) this.subscribe(this.subs.get(sub));
  }

  has(sub) {
    return this.subs.has(sub);
  }

  /** The cursor of every subscription, for display and for tests of resumption. */
  positions() {
    return Object.fromEntries([...this.subs.values()].map((s) => [s.sub, s.position]));
  }

  start() {
    this.move(State.CONNECTING);
    this.open();
  }

  stop() {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.move(State.STOPPED);
    if (this.socket) this.socket.close(1000, "dashboard stopped");
    this.socket = null;
  }

  move(target, detail = {}) {
    this.state = transition(this.state, target);
    this.handlers.state(this.state, detail);
  }

  open() {
    const socket = new WebSocket(this.handlers.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      this.move(State.LIVE, { attempt: this.attempt });
      for (const sub of this.subs.values()) {
        if (!sub.refused) this.subscribe(sub);
      }
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
    });
    socket.addEventListener("message", (message) => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      this.receive(JSON.parse(message.data));
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      this.closed(event);
    });
  }

  subscribe(sub) {
    const from = sub.position ?? sub.initial();
    this.send({ op: "subscribe", sub: sub.sub, stream: sub.stream, from });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  keepAlive() {
    // A half-open TCP connection (a laptop lid, a dead proxy) never fires "close"; silence does.
    if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS && this.socket) {
      this.socket.close(4000, "no message from the gateway");
      return;
    }
    this.send({ op: "ping" });
  }

  receive(message) {
    const sub = message.sub !== undefined ? this.subs.get(message.sub) : undefined;
    switch (message.op) {
      case "events": {
        if (!sub || sub.resetting) return;
        const news = sub.caughtUp;
        sub.position = message.position;
        if (!sub.caughtUp) sub.caughtUp = reached(sub.position, sub.end);
        this.handlers.events(sub.sub, message.events, news);
        return;
      }
      case "subscribed":
        if (!sub) return;
        this.attempt = 0;
        if (sub.resetting) {
          sub.resetting = false;
        } else if (!message.recovered && sub.position !== null) {
          // The gateway could not resume: drop what we hold and start from a fresh snapshot.
          this.handlers.gap(sub.sub, message.reason || "the position could not be resumed");
          sub.resetting = true;
          sub.position = null;
          this.send({ op: "unsubscribe", sub: sub.sub });
          this.subscribe(sub);
          return;
        }
        if (sub.position === null) {
          // a fresh start (not a resumption): the snapshot ends where the stream ended then
          sub.end = sub.target();
          sub.caughtUp = reached(message.position, sub.end);
        }
        sub.position = message.position;
        return;
      case "overflow":
      case "closing":
        // The gateway says where each subscription stands before it closes the socket.
        for (const [name, cursor] of Object.entries(message.positions || {})) {
          const known = this.subs.get(name);
          if (known && cursor) known.position = cursor;
        }
        return;
      case "error":
        if (sub && message.problem && [401, 403, 404].includes(message.problem.status)) {
          sub.refused = true;
          this.handlers.refused(sub.sub, message.problem);
        } else if (message.problem) {
          console.warn("gateway error", message.problem);
        }
        return;
      default:
        return; // pong, unsubscribed
    }
  }

  closed(event) {
    if (this.state === State.STOPPED) return;
    if (event.code === CLOSE_UNAUTHORIZED) {
      this.move(State.UNAUTHORIZED, { reason: event.reason });
      return;
    }
    this.attempt += 1;
    // Back off 0.5 s, 1 s, 2 s ... up to 8 s (30 s when the key has too many connections),
    // with jitter so a room full of dashboards does not reconnect in lockstep.
    const ceiling = event.code === CLOSE_TOO_MANY ? 30_000 : 8_000;
    const delay = Math.min(ceiling, 250 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    if (this.state !== State.RECONNECTING) {
      this.move(State.RECONNECTING, { attempt: this.attempt, delay, code: event.code });
    } else {
      this.handlers.state(this.state, { attempt: this.attempt, delay, code: event.code });
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.move(State.CONNECTING, { attempt: this.attempt });
      this.open();
    }, delay);
  }

  /** Reconnect now with a new URL (a new key), keeping every cursor. */
  restart() {
    clearTimeout(this.retryTimer);
    const old = this.socket;
    this.socket = null;
    if (old) old.close(1000, "new key");
    for (const sub of this.subs.values()) sub.refused = false;
    if (this.state !== State.CONNECTING) this.move(State.CONNECTING);
    this.open();
  }
}
