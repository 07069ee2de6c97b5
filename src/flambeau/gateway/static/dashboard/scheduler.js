// Rendering is throttled to animation frames: models change as messages arrive (cheap), views
// are marked dirty, and one requestAnimationFrame callback redraws each dirty view at most once
// per frame. At full simulator load hundreds of messages may land between two frames; they
// cost one redraw, and a hidden tab (no frames) costs none until it is shown again.

export class FrameScheduler {
  constructor() {
    this.views = new Map();
    this.dirty = new Set();
    this.pending = false;
    this.frames = 0;
  }

  /**
   * Register a view's render function under a name. `every` (ms) caps how often a busy view
   * redraws: a view marked sooner stays dirty until a later frame.
   */
  add(name, render, { every = 0 } = {}) {
    this.views.set(name, { render, every, last: -Infinity });
    this.mark(name);
  }

  /** Ask for `names` to be redrawn in the next frame. */
  mark(...names) {
    for (const name of names) this.dirty.add(name);
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame((now) => this.flush(now));
    }
  }

  flush(now) {
    this.pending = false;
    this.frames += 1;
    const names = [...this.dirty];
    this.dirty.clear();
    const later = [];
    for (const name of names) {
      const view = this.views.get(name);
      if (!view) continue;
      if (now - view.last < view.every) {
        later.push(name);
        continue;
      }
      view.last = now;
      try {
        view.render(now);
      } catch (error) {
        // one broken view must not stop the others from updating
        console.error(`rendering ${name} failed`, error);
      }
    }
    if (later.length) this.mark(...later);
  }
}
