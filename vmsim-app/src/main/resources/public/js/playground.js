// The playground: edit a vmscript, run it, step through its lines forward and back; every panel shows
// the state after the current line. The scenario (script, arch, locking, step, selected address) is in
// the URL, so a link reproduces the view.
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const DEFAULT = "map a 16K rw-\nwrite a 7\nfork child\nin child: read a\nwrite a 9\nin child: read a\nmaps\n";
  let examples = [];
  let recorded = null;      // the transcript Linux printed, for an unchanged example
  let results = {};         // arch -> /api/script response
  let pos = 0;              // lines run so far (0 .. steps)
  let selected = null;      // the selected address as the user wrote it

  function arches() { return $("side").checked ? ["x86_64", "arm64"] : [$("arch").value]; }
  function main() { return results[arches()[0]]; }
  function steps() { return main() ? main().steps : []; }

  function saveHash() {
    vmsim.writeHash({arch: $("arch").value, side: $("side").checked, locking: $("locking").value,
      script: $("editor").value, step: pos, walk: selected || undefined, example: $("example").value || undefined});
  }

  async function run(thenPos) {
    $("error").textContent = "";
    const body = a => ({arch: a, locking: $("locking").value, script: $("editor").value, walk: selected || undefined});
    try {
      const out = {};
      for (const a of arches()) { out[a] = await vmsim.api("/api/script", body(a)); }
      results = out;
    } catch (e) {
      results = {};
      $("error").textContent = e.message;
    }
    pos = Math.max(0, Math.min(thenPos, steps().length));
    render();
  }

  function explain(step) {
    if (!step) { return ""; }
    const ev = step.events;
    const names = ev.map(e => e.name);
    const fault = ev.find(e => e.phase === "B" && (e.name === "page_fault_user" || e.name === "do_mem_abort"));
    if (fault) {
      const parts = [];
      const lv = ev.find(e => e.name === "lock_vma_under_rcu");
      if (lv) { parts.push(lv.args.result === "locked" ? "lock_vma_under_rcu took the VMA's lock" : "lock_vma_under_rcu: " + lv.args.result); }
      if (names.includes("lock_mm_and_find_vma")) { parts.push("fell back to the mmap_lock (lock_mm_and_find_vma)"); }
      if (names.includes("expand_downwards")) { parts.push("expand_downwards grew the stack"); }
      const anon = ev.find(e => e.name === "do_anonymous_page");
      if (anon) { parts.push(anon.args.page === "zero" ? "do_anonymous_page mapped the shared zero page" : "do_anonymous_page mapped a new zeroed page"); }
      const wp = ev.find(e => e.name === "do_wp_page");
      if (wp) { parts.push("do_wp_page: " + wp.args.action + (wp.args.from === "zero" ? " (from the zero page)" : "")); }
      if (names.includes("shmem_fault")) { parts.push("shmem_fault found the shared page"); }
      return `${step.source.trim()} faulted at ${fault.args.address}: ${parts.join("; ")} → ${step.result}`;
    }
    const op = step.source.trim().replace(/^in \S+:\s*/, "").split(/\s+/)[0];
    const what = {map: "mmap", unmap: "munmap", protect: "mprotect", remap: "mremap", dontneed: "madvise(MADV_DONTNEED)",
      guard: "madvise(MADV_GUARD_INSTALL): guard markers in the page table", unguard: "madvise(MADV_GUARD_REMOVE)",
      populate_read: "madvise(MADV_POPULATE_READ)", populate_write: "madvise(MADV_POPULATE_WRITE)",
      wipeonfork: "madvise(MADV_WIPEONFORK)", keeponfork: "madvise(MADV_KEEPONFORK)",
      fork: "fork: dup_mmap copied the VMAs and write-protected the private pages in both tasks",
      exit: "exit: exit_mmap tore the task's mm down", read: "read without a fault (the TLB or the walk found the page)",
      write: "write without a fault (the page was writable and present)", maps: "maps prints /proc/PID/maps"}[op] || op;
    return step.output ? `${what} → ${step.result || "(listed)"}` : "(a blank or comment line)";
  }

  // Which transcript lines are the ones Linux printed (for an example left unchanged).
  function linuxMarks() {
    const marks = [];
    if (!recorded || !main()) { return marks; }
    const rec = recorded.split("\n");
    let at = 0;
    for (const s of main().steps) {
      const n = s.output ? s.output.split("\n").length - 1 : 0;
      const ours = s.output.split("\n").slice(0, n);
      marks.push(n === 0 ? null : ours.every((l, i) => rec[at + i] === l));
      at += n;
    }
    return marks;
  }

  function render() {
    const st = steps();
    $("scrub").max = st.length;
    $("scrub").value = pos;
    $("position").textContent = `line ${pos} of ${st.length}`;
    $("command").textContent = main() ? main().command : "";
    const marks = linuxMarks();
    // The selected address's page, for the fault path: an event about an address in it is highlighted.
    const selPage = selectedAddress(main() && pos > 0 ? main().steps[pos - 1].snapshot : null);
    const onSelected = e => selPage !== null && e.args.address !== undefined
      && (BigInt(e.args.address) & ~0xfffn) === (selPage & ~0xfffn);
    const lines = $("lines");
    lines.innerHTML = "";
    (st.length ? st : $("editor").value.split("\n").map((l, i) => ({line: i + 1, source: l, output: "", result: "", events: [], trace: []})))
      .forEach((s, i) => {
        const li = document.createElement("li");
        li.tabIndex = 0;
        li.className = i === pos - 1 ? "current" : (i >= pos ? "future" : "");
        if (i === pos - 1) { li.setAttribute("aria-current", "step"); }
        const shown = i < pos;
        let res = "";
        for (const a of arches()) {
          const r = results[a] ? results[a].steps[i] : null;
          if (shown && r && r.output) {
            res += ` <span class="result">${arches().length > 1 ? a + ": " : ""}${vmsim.esc(r.result || "(listed)")}</span>`;
          }
        }
        const mark = shown && marks[i] !== undefined && marks[i] !== null
          ? (marks[i] ? ' <span class="linux-ok" title="Linux printed this line">&#10003; Linux</span>'
                      : ' <span class="linux-bad">&#10007; differs from Linux</span>') : "";
        let html = `${vmsim.esc(s.source)}${res}${mark}`;
        if (shown && s.events && s.events.length) {
          html += `<details><summary>kernel path (${s.events.length} trace events)</summary><div class="timeline">`
            + s.events.map(e => `<div${onSelected(e) ? ' class="selected"' : ""}>${e.phase === "B" ? "&#9654;" : e.phase === "E" ? "&#9664;" : "&#8226;"} `
              + `<b>${vmsim.esc(e.name)}</b> ${vmsim.esc(Object.entries(e.args).map(([k, v]) => k + "=" + v).join(" "))}</div>`).join("")
            + `</div><pre>${vmsim.esc(s.trace.join("\n"))}</pre></details>`;
        }
        li.innerHTML = html;
        li.addEventListener("click", ev => { if (ev.target.tagName !== "SUMMARY") { pos = i + 1; render(); } });
        lines.appendChild(li);
      });
    const cur = st[pos - 1];
    $("explain").textContent = pos === 0 ? "Before the first line: press Step (or the Right arrow)." : explain(cur);
    // Running TLB and fault counters (the first CPU)
    const snap = cur ? cur.snapshot : null;
    if (snap) {
      const t = snap.tlbs[0];
      $("counters").innerHTML = `<span>TLB hits ${t.hits}</span><span>TLB misses ${t.misses}</span>`
        + `<span>faults (pgfault) ${snap.vmstat.pgfault}</span><span>TLB entries ${t.entries.length}</span>`;
    } else {
      $("counters").textContent = "";
    }
    const views = $("views");
    views.className = arches().length > 1 ? "cols side" : "";
    views.innerHTML = "";
    for (const a of arches()) {
      const div = document.createElement("div");
      div.id = "view-" + a;
      const r = results[a];
      const s = r && pos > 0 ? r.steps[pos - 1].snapshot : null;
      const p = r && pos > 1 ? r.steps[pos - 2].snapshot : null;
      panels.render(div, a, s, p, selectedAddress(s), r && pos > 0 ? r.steps[pos - 1] : null);
      views.appendChild(div);
    }
    views.querySelectorAll(".vma-link").forEach(link => link.addEventListener("click", ev => {
      ev.preventDefault();
      select(link.dataset.addr);
    }));
    $("walk-help").textContent = selected ? `selected ${selected}: highlighted in every panel` : "";
    saveHash();
  }

  /** The selected address in the state `snap` (a "top-0x3000" is relative to its top), or null. */
  function selectedAddress(snap) {
    if (!snap || !selected) { return null; }
    return selected.startsWith("top") ? panels.top(snap) + panels.relOffset(selected) : BigInt(selected);
  }

  function select(addr) {
    selected = addr && addr.trim() ? addr.trim() : null;
    $("walk").value = selected || "";
    run(pos);
  }

  function move(delta) {
    if (!main()) { run(delta > 0 ? 1 : 0); return; }
    pos = Math.max(0, Math.min(steps().length, pos + delta));
    render();
  }

  async function loadExample(name) {
    const ex = examples.find(e => e.name === name);
    if (!ex) { recorded = null; $("example-note").textContent = ""; return; }
    $("editor").value = await (await fetch("/examples/" + ex.vms)).text();
    // A simulator-only example (memory pressure: Linux has no per-script memory limit) has no Linux marks.
    recorded = ex.source === "simulator" ? null : await (await fetch("/examples/" + ex.out)).text();
    $("example-note").textContent = ex.source === "simulator"
      ? "This example's transcript is the simulator's: it sets mem and swap, which no real kernel can do per script." : "";
  }

  async function init() {
    const meta = await vmsim.api("/api/meta");
    $("locking").innerHTML = meta.locking.map(m => `<option${m === "per-vma" ? " selected" : ""}>${m}</option>`).join("");
    examples = await vmsim.api("/examples/index.json");
    $("example").innerHTML += examples.map(e => `<option>${e.name}</option>`).join("");
    const h = vmsim.readHash();
    if (h.arch) { $("arch").value = h.arch; }
    if (h.locking) { $("locking").value = h.locking; }
    $("side").checked = !!h.side;
    selected = h.walk || null;
    $("walk").value = selected || "";
    if (h.example) { $("example").value = h.example; await loadExample(h.example); }
    $("editor").value = h.script !== undefined ? h.script : ($("editor").value || DEFAULT);
    if (h.script !== undefined && recorded !== null && h.example) {
      const ex = await (await fetch("/examples/" + examples.find(e => e.name === h.example).vms)).text();
      if (ex !== h.script) { recorded = null; }
    }
    if (h.step) { await run(h.step); } else { render(); }
  }

  $("run").addEventListener("click", () => run(Number.MAX_SAFE_INTEGER));
  $("step").addEventListener("click", () => move(1));
  $("back").addEventListener("click", () => move(-1));
  $("scrub").addEventListener("input", () => { pos = Number($("scrub").value); render(); });
  $("select").addEventListener("click", () => select($("walk").value));
  $("walk").addEventListener("keydown", e => { if (e.key === "Enter") { select($("walk").value); } });
  $("arch").addEventListener("change", () => run(pos));
  $("side").addEventListener("change", () => run(pos));
  $("locking").addEventListener("change", () => run(pos));
  $("example").addEventListener("change", async () => { await loadExample($("example").value); results = {}; pos = 0; render(); });
  $("editor").addEventListener("input", () => { recorded = null; $("example").value = ""; results = {}; pos = 0; saveHash(); });
  $("editor").addEventListener("keydown", e => { if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); run(Number.MAX_SAFE_INTEGER); } });
  document.addEventListener("keydown", e => {
    const tag = document.activeElement ? document.activeElement.tagName : "";
    if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") { return; }
    if (e.key === "ArrowRight") { e.preventDefault(); move(1); }
    if (e.key === "ArrowLeft") { e.preventDefault(); move(-1); }
  });
  init().catch(e => { $("error").textContent = e.message; });
  // A link pasted into an open page: load the scenario it holds (the page's own replaceState fires no event).
  window.addEventListener("hashchange", () => location.reload());
})();
