// The interleavings page: runs a two-CPU scenario through POST /api/interleavings once, then steps
// through its stops client-side (Step, Back, Run to end). Each CPU is a lane; the lock waiters are listed.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const esc = vmsim.esc;
  let run = null;
  let at = 0;
  let scenarios = [];

  function render() {
    const n = run ? run.steps.length : 0;
    $("back").disabled = !run || at <= 0;
    $("step").disabled = !run || at >= n - 1;
    $("end").disabled = !run || at >= n - 1;
    if (!run || n === 0) {
      $("where").textContent = run ? "no steps" : "";
      return;
    }
    const s = run.steps[at];
    $("where").textContent = "step " + (at + 1) + " of " + n + (run.truncated ? " (cut at the cap)" : "")
      + ": " + s.cpu + " at " + s.kind + " " + s.what + " (" + s.clockNs + " ns)";
    $("lanes").innerHTML = s.lanes.map(l => {
      const here = l.cpu === s.cpu;
      return '<section class="panel lane' + (here ? " current" : "") + '" aria-label="' + esc(l.cpu) + '">'
        + "<h2>" + esc(l.cpu) + (here ? " &#9654; " + esc(s.kind + " " + s.what) : "") + "</h2>"
        + '<div class="mono">' + esc(l.state) + " @ " + l.clockNs + " ns"
        + (l.waitingOn ? ' <span class="linux-bad">waiting on ' + esc(l.waitingOn) + "</span>" : "")
        + "<br>last event: " + esc(l.lastEvent) + "</div></section>";
    }).join("");
    $("locks").innerHTML = "<table><tr><th>lock</th><th>state</th><th>holders</th><th>readers</th><th>waiters</th></tr>"
      + s.locks.map(l => "<tr><td class=\"mono\">" + esc(l.name) + "</td><td>" + esc(l.state) + "</td><td>"
        + esc(l.holders.join(", ")) + "</td><td>" + l.readers + "</td><td"
        + (l.waiters.length ? ' class="linux-bad"' : "") + ">" + esc(l.waiters.join(", ")) + "</td></tr>").join("")
      + "</table>";
    $("maps").textContent = s.maps.join("\n");
    $("tlbs").innerHTML = s.tlbs.map(t => "<div><b>" + esc(t.cpu) + "</b><pre>" + esc(t.entries.join("\n") || "(empty)")
      + "</pre></div>").join("");
    $("results").textContent = run.results.join("\n") + "\n" + run.outcome + "\n" + run.schedule;
  }

  async function load() {
    $("error").textContent = "";
    const body = {scenario: $("scenario").value, arch: $("arch").value, locking: $("locking").value,
      seed: Number($("seed").value)};
    vmsim.writeHash(body);
    try {
      run = await vmsim.api("/api/interleavings", body);
      at = 0;
    } catch (e) {
      run = null;
      $("error").textContent = e.message;
    }
    const sc = scenarios.find(x => x.name === body.scenario);
    $("about").textContent = sc ? sc.description : "";
    render();
  }

  $("load").onclick = load;
  $("step").onclick = () => { at++; render(); };
  $("back").onclick = () => { at--; render(); };
  $("end").onclick = () => { at = run.steps.length - 1; render(); };

  vmsim.api("/api/interleavings").then(c => {
    scenarios = c.scenarios;
    $("scenario").innerHTML = scenarios.map(s => "<option>" + esc(s.name) + "</option>").join("");
    const h = vmsim.readHash();
    for (const k of ["scenario", "arch", "locking", "seed"]) {
      if (h[k] !== undefined) { $(k).value = h[k]; }
    }
    load();
  }).catch(e => { $("error").textContent = e.message; });
})();
