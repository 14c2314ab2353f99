// Shared helpers of the vmsim pages: the API, the URL state, escaping. No framework, no build step.
"use strict";
const vmsim = {
  async api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    const res = await fetch(path, opts);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const msg = json && json.error ? (json.field ? json.field + ": " : "") + json.error : res.status + " " + text;
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return json;
  },
  esc(s) {
    return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  },
  // The whole scenario lives in the URL's fragment, so a teacher can share a link.
  readHash() {
    try { return JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch (e) { return {}; }
  },
  writeHash(state) {
    history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(state)));
  },
  // A seeded PRNG (mulberry32): the same seed gives the same exercise.
  rng(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  },
  // Unsigned 64-bit hex strings from the API, as BigInt.
  big(hex) { return BigInt(hex); },
  hex(b) { return "0x" + b.toString(16); },
};
