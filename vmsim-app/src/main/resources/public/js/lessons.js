// Guided exercises: each lesson makes a scenario from a seed (so a variant can be reproduced), asks a
// question before some lines, and checks the answer against what the simulator did on that line.
"use strict";
const lessonKit = {
  pick(rng, xs) { return xs[Math.floor(rng() * xs.length)]; },
  names(step) { return step.events.map(e => e.name); },
  // Which lock path a fault took, from its trace events.
  lockPath(step) {
    const n = lessonKit.names(step);
    const lv = step.events.find(e => e.name === "lock_vma_under_rcu");
    const mm = n.includes("lock_mm_and_find_vma");
    if (!n.includes("page_fault_user") && !n.includes("do_mem_abort")) { return "no fault"; }
    if (lv && lv.args.result === "locked" && !mm) { return "per-VMA lock only"; }
    if (lv && mm) { return "per-VMA lock fails, then the mmap_lock"; }
    if (mm) { return "the mmap_lock only"; }
    return "no lock (the fault was refused)";
  },
  // The function that resolved a fault.
  handler(step) {
    const anon = step.events.find(e => e.name === "do_anonymous_page");
    const wp = step.events.find(e => e.name === "do_wp_page");
    if (wp) { return wp.args.action === "copy" ? "do_wp_page copies the page" : "do_wp_page reuses the page"; }
    if (anon) { return anon.args.page === "zero" ? "do_anonymous_page maps the zero page" : "do_anonymous_page maps a new page"; }
    return lessonKit.names(step).some(x => x === "page_fault_user" || x === "do_mem_abort") ? "the fault is refused (SIGSEGV)" : "no fault";
  },
  levels(step) { return step.snapshot.walk.levels.length; },
};

const LESSONS = [
  {
    id: "stack", title: "Stack growth and the guard gap",
    intro: "<p>A <code>growsdown</code> mapping is a stack: an access just below it makes the kernel grow it "
      + "(<code>expand_downwards</code>), unless that would come within the stack guard gap (256 pages, 1 MiB) of "
      + "the mapping below. Predict what a read just below the stack does.</p>",
    make(rng) {
      const pages = lessonKit.pick(rng, [4, 8, 16]);
      const dist = lessonKit.pick(rng, ["0x101000", "0x102000", "0x180000", "0x100000"]);
      return {script: `map s ${pages * 4}K rw- growsdown at top-0x400000 fixed\nmap x 4K rw- at s-${dist} fixed\n`
        + "read s-4K\nmaps\n", walk: "top-0x401000", questions: [
        {line: 2, prompt: `The neighbour x ends ${dist} - 0x1000 bytes below the stack. What does "read s-4K" print?`,
          choices: ["ok 0", "SEGV_MAPERR", "SEGV_ACCERR"], truth: r => r.steps[2].result},
        {line: 3, prompt: '"maps": how many VMAs does it list now?', choices: ["1", "2", "3"],
          truth: r => String(r.steps[3].snapshot.maps.length)}]};
    },
  },
  {
    id: "cow", title: "Copy-on-write after fork",
    intro: "<p><code>fork</code> copies the mm (<code>dup_mmap</code>): both tasks map the same pages, write-protected. "
      + "The first write in either task faults, and <code>do_wp_page</code> copies the page if another task still "
      + "maps it, or reuses it if not.</p>",
    make(rng) {
      const v1 = 1 + Math.floor(rng() * 100), v2 = 101 + Math.floor(rng() * 100);
      const childFirst = rng() < 0.5;
      const first = childFirst ? `in child: write a ${v2}` : `write a ${v2}`;
      const second = childFirst ? "write a 5" : "in child: write a 5";
      return {script: `map a 16K rw-\nwrite a ${v1}\nfork child\n${first}\n${second}\nread a\nin child: read a\n`,
        questions: [
          {line: 3, prompt: `"${first}": which function resolves its fault?`,
            choices: ["do_wp_page copies the page", "do_wp_page reuses the page", "do_anonymous_page maps a new page", "no fault"],
            truth: r => lessonKit.handler(r.steps[3])},
          {line: 4, prompt: `"${second}": and this one, now that the other task has its own copy?`,
            choices: ["do_wp_page copies the page", "do_wp_page reuses the page", "do_anonymous_page maps a new page", "no fault"],
            truth: r => lessonKit.handler(r.steps[4])},
          {line: 5, prompt: '"read a": what does the parent read?', choices: [`ok ${v1}`, `ok ${v2}`, "ok 5"],
            truth: r => r.steps[5].result}]};
    },
  },
  {
    id: "zero", title: "The zero page, then a write fault",
    intro: "<p>A read of a never-written private page maps the shared zero page read-only; the first write then "
      + "faults again and gets a page of its own. The first fault in a region also allocates the page tables "
      + "the walk needs.</p>",
    make(rng) {
      const off = lessonKit.pick(rng, [0, 1, 2, 3]) * 0x1000;
      const at = 0x4000000;
      const walk = "top-0x" + (at - off).toString(16);
      return {script: `map z 16K rw- at top-0x${at.toString(16)} fixed\nread z+${off}\nwrite z+${off} 7\nread z+${off}\n`,
        walk, questions: [
          {line: 1, prompt: `"read z+${off}": which function resolves the fault?`,
            choices: ["do_anonymous_page maps the zero page", "do_anonymous_page maps a new page", "do_wp_page copies the page", "no fault"],
            truth: r => lessonKit.handler(r.steps[1])},
          {line: 1, prompt: `"read z+${off}": how many page-table pages does its fault allocate?`, choices: ["0", "1", "2", "3", "4"],
            truth: r => String(lessonKit.levels(r.steps[1]) - lessonKit.levels(r.steps[0]))},
          {line: 2, prompt: `"write z+${off} 7": which function resolves this fault?`,
            choices: ["do_anonymous_page maps the zero page", "do_anonymous_page maps a new page", "do_wp_page copies the page", "no fault"],
            truth: r => lessonKit.handler(r.steps[2])},
          {line: 3, prompt: `"read z+${off}" after the write: what does it print?`, choices: ["ok 0", "ok 7", "SEGV_MAPERR"], truth: r => r.steps[3].result}]};
    },
  },
  {
    id: "shootdown", title: "A TLB shootdown on munmap",
    intro: "<p>munmap must not leave a translation in any TLB: after zapping the page tables it flushes the range "
      + "(<code>flush_tlb_range</code>), on every CPU that may hold the mm's entries. The script's machine has one "
      + "CPU, so the flush is local; in <code>compare</code> runs with several CPUs it becomes an IPI "
      + "(<code>nr_tlb_remote_flush</code>).</p>",
    make(rng) {
      const n = lessonKit.pick(rng, [2, 3, 4]);
      let s = `map m ${n * 4}K rw-\n`;
      for (let i = 0; i < n; i++) { s += `write m+${i * 4}K ${i + 1}\n`; }
      s += `unmap m ${n * 4}K\nmaps\n`;
      return {script: s, questions: [
        {line: n, prompt: `After ${n} writes, how many TLB entries does CPU 0 hold?`, choices: ["0", "1", String(n), String(n + 1)].filter((v, i, a) => a.indexOf(v) === i),
          truth: r => String(r.steps[n].snapshot.tlbs[0].entries.length)},
        {line: n + 1, prompt: `"unmap m ${n * 4}K": how many of those entries remain after it?`, choices: ["0", "1", String(n)].filter((v, i, a) => a.indexOf(v) === i),
          truth: r => String(r.steps[n + 1].snapshot.tlbs[0].entries.length)},
        {line: n + 1, prompt: `"unmap m ${n * 4}K": which vmstat counter does its TLB flush raise?`,
          choices: ["nr_tlb_local_flush_one", "nr_tlb_local_flush_all", "nr_tlb_remote_flush"],
          truth: r => ["nr_tlb_local_flush_one", "nr_tlb_local_flush_all", "nr_tlb_remote_flush"]
            .find(k => r.steps[n + 1].snapshot.vmstat[k] > r.steps[n].snapshot.vmstat[k]) || "none"}]};
    },
  },
  {
    id: "abort", title: "A per-VMA lock abort falls back to the mmap_lock",
    intro: "<p>A fault first tries <code>lock_vma_under_rcu</code>: find the VMA without the mmap_lock and read-lock "
      + "just that VMA. When there is no VMA at the address (a stack about to grow), or the VMA is being changed, "
      + "it aborts (<code>vma_lock_abort</code>) and the fault retries under the mmap_lock "
      + "(<code>lock_mm_and_find_vma</code>). With CONFIG_PER_VMA_LOCK=n (mmap-only) there is no first try.</p>",
    make(rng) {
      const locking = lessonKit.pick(rng, ["per-vma", "per-vma", "mmap-only"]);
      return {locking, script: "map s 16K rw- growsdown\nread s-4K\nwrite s\nvmstat\n", questions: [
        {line: 1, prompt: `Locking ${locking}: "read s-4K" is below the stack. Which lock path does its fault take?`,
          choices: ["per-VMA lock only", "per-VMA lock fails, then the mmap_lock", "the mmap_lock only"],
          truth: r => lessonKit.lockPath(r.steps[1])},
        {line: 2, prompt: '"write s" is inside the stack VMA. Which lock path now?',
          choices: ["per-VMA lock only", "per-VMA lock fails, then the mmap_lock", "the mmap_lock only"],
          truth: r => lessonKit.lockPath(r.steps[2])},
        {line: 3, prompt: '"vmstat": what does its vma_lock_abort say now?', choices: ["0", "1", "2"],
          truth: r => String(r.steps[3].snapshot.vmstat.vma_lock_abort)}]};
    },
  },
];

(function () {
  const $ = id => document.getElementById(id);
  let lesson, made, resp, pos, asked, score, total;

  function state() { vmsim.writeHash({lesson: lesson.id, seed: Number($("seed").value)}); }

  async function start() {
    lesson = LESSONS.find(l => l.id === $("lesson").value) || LESSONS[0];
    made = lesson.make(vmsim.rng(Number($("seed").value)));
    $("title").textContent = lesson.title;
    $("intro").innerHTML = lesson.intro;
    pos = 0; asked = new Set(); score = 0; total = 0;
    $("error").textContent = "";
    resp = null;
    try {
      resp = await vmsim.api("/api/script", {arch: "x86_64", locking: made.locking || "per-vma", script: made.script, walk: made.walk});
    } catch (e) { $("error").textContent = e.message; }
    $("playground").href = "/#" + encodeURIComponent(JSON.stringify({arch: "x86_64", locking: made.locking || "per-vma", script: made.script, step: 0, walk: made.walk}));
    state();
    render();
  }

  function pending() { // the next unanswered question about line `pos`
    return made.questions.find((q, i) => q.line === pos && !asked.has(i));
  }

  function render() {
    $("score").textContent = `${score} / ${total}`;
    $("lines").innerHTML = resp ? resp.steps.slice(0, pos).map(s => `<li>${vmsim.esc(s.source)} <span class="result">`
      + `${vmsim.esc(s.result || s.output.split("\n").slice(1).join(" ").trim().slice(0, 80))}</span></li>`).join("") : "";
    const q = resp && pos < resp.steps.length ? pending() : null;
    $("question").hidden = !q;
    $("step").disabled = !!q || !resp || pos >= resp.steps.length;
    if (q) {
      $("prompt").textContent = `Line ${pos + 1}: ${q.prompt}`;
      $("choices").innerHTML = q.choices.map((c, i) => `<label><input type="radio" name="answer" value="${vmsim.esc(c)}"`
        + `${i === 0 ? " autofocus" : ""}> ${vmsim.esc(c)}</label><br>`).join("");
      $("verdict").textContent = "";
      $("check").disabled = false;
    }
    if (resp && pos >= resp.steps.length) { $("explain").textContent = `Done: ${score} of ${total} right. Try another variant.`; }
  }

  $("check").addEventListener("click", () => {
    const q = pending();
    const chosen = document.querySelector('#choices input:checked');
    if (!q || !chosen) { $("verdict").textContent = "Choose an answer first."; return; }
    const truth = q.truth(resp);
    const right = chosen.value === truth;
    total++; if (right) { score++; }
    asked.add(made.questions.indexOf(q));
    $("verdict").className = "verdict " + (right ? "ok" : "bad");
    $("verdict").textContent = right ? `Right: ${truth}.` : `Not quite: the simulator says ${truth}.`;
    $("check").disabled = true;
    $("score").textContent = `${score} / ${total}`;
    const next = pending();
    setTimeout(() => { if (next) { render(); } else { $("question").hidden = true; $("step").disabled = false; $("step").focus(); } }, next ? 1200 : 0);
  });
  $("step").addEventListener("click", () => {
    if (!resp || pending()) { return; }
    const s = resp.steps[pos];
    pos++;
    $("explain").textContent = s.trace.length ? s.trace.join(" | ") : `${s.source} -> ${s.result}`;
    render();
  });
  $("new").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 1e6); start(); });
  $("restart").addEventListener("click", start);
  $("lesson").addEventListener("change", start);
  $("seed").addEventListener("change", start);
  $("lesson").innerHTML = LESSONS.map(l => `<option value="${l.id}">${l.title}</option>`).join("");
  const h = vmsim.readHash();
  if (h.lesson) { $("lesson").value = h.lesson; }
  if (h.seed !== undefined) { $("seed").value = h.seed; }
  start();
  // A link pasted into an open page: load the scenario it holds (the page's own replaceState fires no event).
  window.addEventListener("hashchange", () => location.reload());
})();
