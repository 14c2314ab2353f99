// The compare page: start a compare job, follow its Server-Sent Events on a progress bar, then chart
// the medians per mode and show the CLI's table, the JSON and a Perfetto trace.
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const charts = {};

  function request() {
    const modes = [...document.querySelectorAll("#modes input:checked")].map(i => i.value);
    return {command: "compare", workload: $("workload").value, arch: $("arch").value,
      threads: [Number($("threads").value)], modes, duration: $("duration").value, repeat: Number($("repeat").value),
      machine: $("machine").value, clock: $("clock").value};
  }

  function follow(job, onProgress) {
    return new Promise((resolve) => {
      const es = new EventSource(job.events);
      const end = () => { es.close(); resolve(); };
      ["queued", "running", "done", "failed"].forEach(name => es.addEventListener(name, ev => {
        const p = JSON.parse(ev.data);
        onProgress(p);
        if (p.state === "done" || p.state === "failed") { end(); }
      }));
      es.onerror = end; // the stream ended
    });
  }

  function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : 0;
  }

  function draw(result) {
    const runs = result.runs || [];
    const label = r => r.locking + (r.mmapUpgrade ? "+upgrade" : "");
    const modes = [...new Set(runs.map(label))];
    const of = m => runs.filter(r => label(r) === m);
    const pcts = ["p50", "p90", "p99", "p999"];
    if (charts.rate) { charts.rate.destroy(); charts.latency.destroy(); }
    charts.rate = new Chart($("rate"), {type: "bar", data: {labels: modes,
      datasets: [{label: "faults/s", data: modes.map(m => median(of(m).map(r => r.faultsPerSec)))}]},
      options: {animation: false}});
    charts.latency = new Chart($("latency"), {type: "line", data: {labels: pcts,
      datasets: modes.map(m => ({label: m, data: pcts.map(p => median(of(m).map(r => r.faultLatencyNs[p])))}))},
      options: {animation: false, scales: {y: {type: "logarithmic"}}}});
    $("rate").dataset.drawn = "true";
    $("latency").dataset.drawn = "true";
  }

  async function go(ev) {
    ev.preventDefault();
    $("error").textContent = "";
    $("go").disabled = true;
    try {
      const job = await vmsim.api("/api/runs", request());
      $("command").textContent = job.command;
      await follow(job, p => { $("progress").value = p.progress; $("state").textContent = `${p.state} ${Math.round(p.progress * 100)}%`; });
      const st = await vmsim.api(`/api/runs/${job.id}/status`);
      if (st.state !== "done") { throw new Error(st.error || st.state); }
      $("report").textContent = st.report;
      draw(await vmsim.api(job.result));
      $("json").href = job.result;
      $("json").hidden = false;
    } catch (e) {
      $("error").textContent = e.message;
    } finally {
      $("go").disabled = false;
    }
  }

  async function trace() {
    $("tracestate").textContent = "recording...";
    try {
      const first = document.querySelector("#modes input:checked");
      const job = await vmsim.api("/api/runs", {command: "run", workload: $("workload").value, arch: $("arch").value,
        threads: [Number($("threads").value)], locking: first ? first.value.replace("+upgrade", "") : "per-vma",
        iterations: 2, trace: true});
      await follow(job, p => { $("tracestate").textContent = `${p.state} ${Math.round(p.progress * 100)}%`; });
      const st = await vmsim.api(`/api/runs/${job.id}/status`);
      if (!st.trace) { throw new Error(st.error || "no trace"); }
      $("tracelink").href = `/api/runs/${job.id}/trace`;
      $("tracelink").hidden = false;
      $("tracestate").textContent = "ready";
    } catch (e) {
      $("tracestate").textContent = e.message;
    }
  }

  async function init() {
    const meta = await vmsim.api("/api/meta");
    $("workload").innerHTML = meta.workloads.map(w => `<option${w === "fault-vs-munmap" ? " selected" : ""}>${w}</option>`).join("");
    $("machine").innerHTML = meta.machines.map(m => `<option>${m}</option>`).join("");
    $("modes").innerHTML += meta.locking.map((m, i) => `<label><input type="checkbox" value="${m}"${i < 3 ? " checked" : ""}> ${m}</label>`).join(" ");
    $("threads").max = meta.runThreads;
  }

  $("form").addEventListener("submit", go);
  $("trace").addEventListener("click", trace);
  init().catch(e => { $("error").textContent = e.message; });
})();
