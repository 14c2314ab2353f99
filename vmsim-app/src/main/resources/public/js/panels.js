// Renders one snapshot of /api/script into the panels: VMAs, maple tree, page-table walk, TLBs, locks,
// vmstat, LRU and swap. Every panel also has a text form (for screen readers and copying). `prev` is the snapshot
// before, so that every change is highlighted; `sel` is the selected address (BigInt) or null.
"use strict";
const panels = {
  relOffset(rel) { // "top-0x4000" -> -0x4000n
    const m = /^top([+-])0x([0-9a-f]+)$/.exec(rel);
    return m ? (m[1] === "-" ? -1n : 1n) * BigInt("0x" + m[2]) : 0n;
  },
  top(snap) { return BigInt(snap.walk.address) - panels.relOffset(snap.walk.rel); },
  rangeOf(mapsLine, top) {
    const [a, b] = mapsLine.split(" ");
    return [top + panels.relOffset(a), top + panels.relOffset(b)];
  },
  section(id, title, html, text) {
    return `<section class="panel" id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${html}`
      + `<details class="text-form"><summary>Text form</summary><pre>${vmsim.esc(text)}</pre></details></section>`;
  },
  render(el, arch, snap, prev, sel, step) {
    if (!snap) { el.innerHTML = `<p>${arch}: nothing has run yet.</p>`; return; }
    const top = panels.top(snap);
    const inSel = (lo, hi) => sel !== null && sel >= lo && sel < hi;
    const prevMaps = new Set(prev ? prev.maps : []);
    // VMAs
    let rows = snap.maps.map(m => {
      const [lo, hi] = panels.rangeOf(m, top);
      const cls = [prevMaps.has(m) ? "" : "changed", inSel(lo, hi) ? "selected" : ""].join(" ");
      return `<tr class="${cls}"><td><a href="#" class="vma-link" data-addr="${m.split(" ")[0]}">${vmsim.esc(m)}</a></td></tr>`;
    }).join("");
    let html = panels.section(`${arch}-vmas`, `VMAs (/proc/PID/maps) of task ${vmsim.esc(snap.task)}`,
      `<table class="mono vmas"><tbody>${rows || "<tr><td>(none)</td></tr>"}</tbody></table>`
      + `<p>Tasks: ${snap.tasks.map(vmsim.esc).join(", ") || "(none)"}</p>`, snap.maps.join("\n") || "(none)");
    // Maple tree
    const prevEntries = new Set(prev ? prev.maple.nodes.flatMap(n => n.slots.map(s => s.first + s.last + s.entry)) : []);
    const nodeHtml = snap.maple.nodes.map(n => {
      const slots = n.slots.map((s, i) => {
        const lo = BigInt(s.first), hi = BigInt(s.last);
        const cls = ["slot", s.entry === null && s.child < 0 ? "gap" : "",
          prevEntries.has(s.first + s.last + s.entry) ? "" : "changed", inSel(lo, hi + 1n) ? "selected" : ""].join(" ");
        const what = s.child >= 0 ? `node ${s.child}` : (s.entry ? vmsim.esc(s.entry) : "gap");
        const pivot = i < n.slots.length - 1 ? `pivot ${s.last}` : `max ${s.last}`;
        return `<span class="${cls}" title="[${s.first}, ${s.last}]">${what}<br><small>${pivot}</small></span>`;
      }).join("");
      const gaps = n.gaps.length ? `<br><small>gaps: ${n.gaps.join(" ")}</small>` : "";
      return `<div class="maple-node mono" data-node="${n.id}"><small>node ${n.id} ${n.type}`
        + `${n.parent >= 0 ? " (parent " + n.parent + ")" : " (root)"}</small><br>${slots}${gaps}</div>`;
    }).join("");
    const mapleText = snap.maple.nodes.map(n => `node ${n.id} ${n.type} [${n.min}, ${n.max}] parent ${n.parent}\n`
      + n.slots.map(s => `  [${s.first}, ${s.last}] ${s.child >= 0 ? "-> node " + s.child : (s.entry || "gap")}`).join("\n")
      + (n.gaps.length ? `\n  gaps ${n.gaps.join(" ")}` : "")).join("\n");
    html += panels.section(`${arch}-maple`, `Maple tree (height ${snap.maple.height})`, nodeHtml || "(empty)", mapleText || "(empty)");
    // Page-table walk, with the address split into its index bits
    const w = snap.walk;
    const addr = BigInt(w.address);
    const bitsHtml = w.levels.map((l, i) => `<span class="lv${l.level}" title="${l.name} index bits ${l.bits}">`
      + `${l.name}[${l.bits}] = ${l.index}</span>`).join("") + (w.levels.length
        ? `<span class="lvoff">offset = 0x${(addr & ((1n << BigInt(w.levels[w.levels.length - 1].bits.split(":")[1])) - 1n)).toString(16)}</span>`
        : "");
    const prevWalk = prev && prev.walk.address === w.address ? prev.walk.levels.map(l => l.entry) : [];
    const lvRows = w.levels.map((l, i) => `<tr class="lv${l.level} ${prevWalk[i] === l.entry ? "" : "changed"}">`
      + `<td>${l.name}</td><td>${l.index}</td><td>${l.table}</td><td>${l.entry}</td><td>${vmsim.esc(l.decoded)}</td></tr>`).join("");
    const walkText = `walk ${w.address} (${w.rel})\n` + w.levels.map(l =>
      `${l.name} bits ${l.bits} index ${l.index} table pfn ${l.table} entry ${l.entry} ${l.decoded}`).join("\n");
    html += panels.section(`${arch}-walk`, `Page-table walk of ${w.rel} (${w.address})`,
      `<div class="bits mono">${bitsHtml}</div><table class="mono"><thead><tr><th>level</th><th>index</th>`
      + `<th>table pfn</th><th>entry</th><th>decoded</th></tr></thead><tbody>${lvRows}</tbody></table>`, walkText);
    // TLBs
    const prevTlb = new Set(prev ? prev.tlbs.flatMap(t => t.entries.map(e => t.cpu + e.va + e.tag + e.perms)) : []);
    const tlbHtml = snap.tlbs.map(t => `<p>CPU ${t.cpu}: ${t.entries.length} entries, ${t.hits} hits, ${t.misses} misses</p>`
      + `<table class="mono"><thead><tr><th>page</th><th>${t.tagName}</th><th>pa</th><th>perms</th></tr></thead><tbody>`
      + t.entries.map(e => `<tr class="${prevTlb.has(t.cpu + e.va + e.tag + e.perms) ? "" : "changed"} `
        + `${inSel(BigInt(e.va), BigInt(e.va) + 4096n) ? "selected" : ""}"><td>${e.rel}</td>`
        + `<td>${e.global ? "global" : e.tag}</td><td>${e.pa}</td><td>${vmsim.esc(e.perms)}</td></tr>`).join("")
      + `</tbody></table>`).join("");
    const tlbText = snap.tlbs.map(t => `cpu ${t.cpu} hits ${t.hits} misses ${t.misses}\n`
      + t.entries.map(e => `  ${e.rel} ${t.tagName} ${e.global ? "global" : e.tag} pa ${e.pa} ${e.perms}`).join("\n")).join("\n");
    html += panels.section(`${arch}-tlb`, "TLBs", tlbHtml, tlbText);
    // Locks
    const l = snap.locks.mmapLock;
    const pl = prev ? prev.locks.mmapLock : l;
    const flag = (name, v, pv) => `<span class="${v === pv ? "" : "changed"}">${name}=${v}</span>`;
    const lockHtml = `<p class="mono">mmap_lock count ${l.count}: ${flag("readers", l.readers, pl.readers)} `
      + `${flag("WRITER_LOCKED", l.writerLocked, pl.writerLocked)} ${flag("WAITERS", l.waiters, pl.waiters)} `
      + `${flag("HANDOFF", l.handoff, pl.handoff)} waiting=${l.waiting} ${flag("mm_lock_seq", l.mmLockSeq, pl.mmLockSeq)}</p>`
      + `<table class="mono"><thead><tr><th>VMA</th><th>vm_refcnt</th><th>vm_lock_seq</th><th>write-locked</th></tr></thead><tbody>`
      + snap.locks.vmas.map(v => `<tr><td>${vmsim.esc(v.vma)}</td><td>${v.vmRefcnt}</td><td>${v.vmLockSeq}`
        + `${v.vmLockSeq === l.mmLockSeq ? " (= mm_lock_seq)" : ""}</td><td>${v.writeLocked}</td></tr>`).join("") + `</tbody></table>`;
    const lockText = `mmap_lock count ${l.count} readers ${l.readers} WRITER_LOCKED ${l.writerLocked} WAITERS ${l.waiters}`
      + ` HANDOFF ${l.handoff} mm_lock_seq ${l.mmLockSeq}\n` + snap.locks.vmas.map(v =>
        `${v.vma} vm_refcnt ${v.vmRefcnt} vm_lock_seq ${v.vmLockSeq} write-locked ${v.writeLocked}`).join("\n");
    html += panels.section(`${arch}-locks`, "Locks", lockHtml, lockText);
    // vmstat
    const pv = prev ? prev.vmstat : snap.vmstat;
    const vmHtml = `<table class="mono"><tbody>` + Object.entries(snap.vmstat).filter(([k, v]) => v !== 0 || pv[k] !== 0)
      .map(([k, v]) => `<tr class="${v === pv[k] ? "" : "changed"}"><td>${k}</td><td>${v}</td></tr>`).join("") + `</tbody></table>`;
    html += panels.section(`${arch}-vmstat`, "vmstat (non-zero)", vmHtml,
      Object.entries(snap.vmstat).map(([k, v]) => `${k} ${v}`).join("\n"));
    html += panels.lru(arch, snap, prev);
    html += panels.swap(arch, snap, prev);
    el.innerHTML = `<h2 style="font-size:1.05em">${arch}</h2><div class="panels">${html}</div>`;
  },
  // One folio of the LRU panel: pfn, its PTEs, and its page flags.
  folioFlags(f) {
    return [f.referenced && "referenced", f.active && "active", f.swapbacked && "swapbacked", f.swapcache && "swapcache",
      f.dirty && "dirty", f.writeback && "writeback"].filter(x => x).join(" ");
  },
  // LRU lists (head = most recently added, tail = reclaimed next) and the lru_add batch.
  lru(arch, snap, prev) {
    if (!snap.lru || (!snap.lru.lists.length && !snap.lru.lruAdd.length)) {
      return panels.section(`${arch}-lru`, "LRU", "<p>Empty: give the script a <code>mem</code> or <code>swap</code> line to see reclaim.</p>", "(no memory limit)");
    }
    const before = new Set(prev && prev.lru ? prev.lru.lists.flatMap(l => l.folios.map(f => l.name + f.pfn + panels.folioFlags(f)))
      .concat(prev.lru.lruAdd.map(f => "batch" + f.pfn)) : []);
    const row = (where, key, f) => `<tr class="${before.has(key) ? "" : "changed"}"><td>${where}</td><td>${f.pfn}</td>`
      + `<td>${vmsim.esc(f.mappedBy.join(", ") || "(unmapped)")}</td><td>${panels.folioFlags(f)}</td></tr>`;
    const lists = snap.lru.lists.filter(l => l.size > 0 || l.name.endsWith("anon"));
    const body = lists.map(l => l.folios.map((f, i) => row(`${l.name}${i === 0 ? " (head)" : i === l.folios.length - 1 ? " (tail)" : ""}`,
      l.name + f.pfn + panels.folioFlags(f), f)).join("")).join("")
      + snap.lru.lruAdd.map(f => row("lru_add batch", "batch" + f.pfn, f)).join("");
    const sizes = lists.map(l => `${l.name} ${l.size}`).join(", ") + `, lru_add batch ${snap.lru.lruAdd.length}`;
    const text = snap.lru.lists.map(l => `${l.name} ${l.size}\n` + l.folios.map(f => `  pfn ${f.pfn} ${f.mappedBy.join(", ")} ${panels.folioFlags(f)}`).join("\n")).join("\n")
      + `\nlru_add batch ${snap.lru.lruAdd.length}\n` + snap.lru.lruAdd.map(f => `  pfn ${f.pfn} ${f.mappedBy.join(", ")} ${panels.folioFlags(f)}`).join("\n");
    return panels.section(`${arch}-lru`, "LRU", `<p class="mono">${sizes}</p><table class="mono"><thead><tr><th>list</th><th>pfn</th>`
      + `<th>mapped by</th><th>flags</th></tr></thead><tbody>${body || "<tr><td colspan=4>(empty)</td></tr>"}</tbody></table>`, text);
  },
  // Swap devices: size, used, and each used slot's swap_map count, SWAP_HAS_CACHE, cached folio and swap PTEs.
  swap(arch, snap, prev) {
    if (!snap.swap || !snap.swap.length) {
      return panels.section(`${arch}-swap`, "Swap", "<p>No swap device: give the script a <code>swap</code> line.</p>", "(no swap)");
    }
    const before = new Set(prev && prev.swap ? prev.swap.flatMap(d => d.slots.map(s => JSON.stringify(s))) : []);
    let html = "", text = "";
    for (const d of snap.swap) {
      html += `<p class="mono">swap type ${d.type}: ${d.used} of ${d.size} slots used</p><table class="mono"><thead><tr><th>offset</th>`
        + `<th>count</th><th>SWAP_HAS_CACHE</th><th>swap-cache pfn</th><th>swap PTEs</th></tr></thead><tbody>`
        + (d.slots.map(s => `<tr class="${before.has(JSON.stringify(s)) ? "" : "changed"}"><td>0x${s.offset.toString(16)}</td>`
          + `<td>${s.count}</td><td>${s.hasCache}</td><td>${s.cachePfn || ""}</td><td>${vmsim.esc(s.ptes.join(", "))}</td></tr>`).join("")
          || "<tr><td colspan=5>(no slot used)</td></tr>") + `</tbody></table>`;
      text += `swap type ${d.type} used ${d.used} of ${d.size}\n` + d.slots.map(s => `  offset 0x${s.offset.toString(16)} count ${s.count}`
        + ` has_cache ${s.hasCache} pfn ${s.cachePfn || "-"} ptes ${s.ptes.join(", ")}`).join("\n");
    }
    return panels.section(`${arch}-swap`, "Swap", html, text);
  },
};
