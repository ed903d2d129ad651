/**
 * emitter.js — the small event emitter ManifoldClient extends (on/off/once/emit).
 *
 * Part of the Manifold client library (see manifold.js); internal, not exported.
 */

import { ManifoldError } from './protocol.js';

/** A small event emitter: on/off/once/emit; a throwing listener does not stop the others. */
export class Emitter {
  #listeners = new Map();

  /** @param {string} type @param {(event: object) => void} listener */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return this;
  }

  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
    return this;
  }

  /**
   * Promise of the next `type` event for which `predicate` returns true.
   * @param {string} type
   * @param {(event: object) => boolean} [predicate]
   * @param {number} [timeoutMs] reject with a ManifoldError (reason "timeout") after this long
   */
  once(type, predicate = () => true, timeoutMs = 0) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const listener = (event) => {
        if (!predicate(event)) return;
        this.off(type, listener);
        if (timer) clearTimeout(timer);
        resolve(event);
      };
      this.on(type, listener);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.off(type, listener);
          reject(new ManifoldError(`no "${type}" event within ${timeoutMs} ms`,
                                   { reason: 'timeout' }));
        }, timeoutMs);
      }
    });
  }

  emit(type, event) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        // A listener's bug must not break message handling; report it asynchronously.
        setTimeout(() => { throw err; });
      }
    }
  }
}
