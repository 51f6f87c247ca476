// encoda's web page: signs in with the API token (traded for an HttpOnly session cookie, so the token is never
// kept by the page or put in a URL), lists jobs, shows one job's chunks, submits, cancels and retries. It stays
// live through the server's event stream (/api/v1/events); the list is fetched again only when the stream
// (re)connects or an event names a job. Every value from the server is set as text, never as markup.
"use strict";

const api = "/api/v1";
const jobs = new Map();          // id → the job as GET /api/v1/jobs/{id} returns it
const pending = new Map();       // id → timer of a detail fetch already asked for
let selected = null;             // id of the job shown in the job view
let events = null;               // the EventSource

const $ = (id) => document.getElementById(id);
const ended = (s) => s === "finished" || s === "failed" || s === "cancelled";

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { "Accept": "application/json" } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const r = await fetch(api + path, init);
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (r.status === 401 && path !== "/session") signedOut("Your session ended; sign in again.");
  return { status: r.status, data };
}

function say(text) { $("connection").textContent = text; }

function signedOut(why) {
  if (events) { events.close(); events = null; }
  $("app").hidden = true;
  $("signin-section").hidden = false;
  $("signin-error").textContent = why || "";
  say("Not signed in");
}

async function signedIn() {
  $("signin-section").hidden = true;
  $("app").hidden = false;
  await refreshAll();
  listen();
}

async function refreshAll() {
  const r = await call("GET", "/jobs");
  if (r.status !== 200 || !Array.isArray(r.data)) return false;
  jobs.clear();
  for (const j of r.data) jobs.set(j.id, j);
  renderJobs();
  renderJob();
  return true;
}

function listen() {
  if (events) events.close();
  events = new EventSource(api + "/events", { withCredentials: true });
  events.addEventListener("open", () => { say("Live"); refreshAll(); });
  events.addEventListener("error", () => {
    if (events && events.readyState === EventSource.CLOSED) { say("Disconnected"); events = null; refreshAll().then((ok) => { if (ok) listen(); }); }
    else say("Reconnecting…");
  });
  for (const type of ["state", "progress"]) {
    events.addEventListener(type, (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (_) { return; }
      const j = jobs.get(ev.job);
      if (j) {
        j.state = ev.state;
        for (const k of ["framesDone", "frames", "percentDone", "fps", "etaSeconds", "workersAlive", "error"]) if (ev[k] !== undefined) j[k] = ev[k];
        renderJobs();
        if (selected === ev.job) renderJob();
      }
      fetchJob(ev.job);
    });
  }
}

/// One detail fetch per job at a time: events that come while one is on its way are served by it.
function fetchJob(id) {
  if (pending.has(id)) return;
  pending.set(id, setTimeout(async () => {
    pending.delete(id);
    const r = await call("GET", "/jobs/" + encodeURIComponent(id));
    if (r.status === 200 && r.data) { jobs.set(id, r.data); renderJobs(); if (selected === id) renderJob(); }
    else if (r.status === 404 && jobs.delete(id)) { renderJobs(); if (selected === id) renderJob(); }   // purged
  }, 150));
}

function baseName(p) { return (p || "").split("/").pop(); }
function num(x, digits) { return typeof x === "number" && isFinite(x) ? x.toFixed(digits) : "–"; }
function eta(s) {
  if (typeof s !== "number" || !isFinite(s)) return "–";
  s = Math.round(s);
  const m = Math.floor(s / 60), r = s % 60;
  return m > 0 ? `${m}:${String(r).padStart(2, "0")}` : `${r} s`;
}
function percent(j) {
  if (j.state === "finished") return 100;
  return typeof j.percentDone === "number" ? j.percentDone : 0;
}
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function button(text, label, onClick, enabled) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = text; b.setAttribute("aria-label", label); b.disabled = !enabled;
  b.addEventListener("click", onClick);
  return b;
}

/// Rows are kept per job and updated in place, so a button keeps its focus while events come in.
const rows = new Map();          // id → { row, input, state, bar, percent, fps, eta, workers, cancel, retry }

function makeRow(j) {
  const row = document.createElement("tr");
  row.dataset.jobId = j.id;
  const r = { row };
  r.input = cell(row, "", "input");
  r.state = cell(row, "", "state");
  const p = row.insertCell(); p.className = "progress num";
  r.bar = document.createElement("progress"); r.bar.max = 100;
  r.percent = document.createElement("span");
  p.append(r.bar, " ", r.percent);
  r.fps = cell(row, "", "fps num");
  r.eta = cell(row, "", "eta num");
  r.workers = cell(row, "", "workers num");
  const a = row.insertCell(); a.className = "actions";
  const name = baseName(j.input);
  r.view = button("View", `view ${name}`, () => { selected = j.id; renderJob(); fetchJob(j.id); }, true);
  r.cancel = button("Cancel", `cancel ${name}`, () => cancel(j.id), true);
  r.retry = button("Retry", `retry ${name}`, () => retry(j.id), true);
  a.append(r.view, r.cancel, r.retry);
  r.bar.setAttribute("aria-label", `progress of ${name}`);
  return r;
}

function renderJobs() {
  const body = $("jobs").tBodies[0];
  const all = [...jobs.values()].sort((a, b) => (b.createdAt || 0) - (a.createdAt || 0));
  $("no-jobs").hidden = all.length > 0;
  for (const [id, r] of rows) if (!jobs.has(id)) { r.row.remove(); rows.delete(id); }
  let before = body.firstChild;
  for (const j of all) {
    let r = rows.get(j.id);
    if (!r) { r = makeRow(j); rows.set(j.id, r); }
    if (r.row !== before) body.insertBefore(r.row, before); else before = before.nextSibling;
    r.row.dataset.state = j.state;
    r.input.textContent = baseName(j.input); r.input.title = j.input;
    r.state.textContent = j.state; r.state.className = "state state-" + j.state;
    r.bar.value = percent(j);
    r.percent.textContent = num(percent(j), 1) + " %";
    r.fps.textContent = num(j.fps, 1);
    r.eta.textContent = ended(j.state) ? "–" : eta(j.etaSeconds);
    r.workers.textContent = typeof j.workersAlive === "number" ? String(j.workersAlive) : "–";
    r.cancel.disabled = ended(j.state);
    r.retry.disabled = !(j.state === "failed" || !ended(j.state));
  }
}

/// Chunk ids as ranges: 0-4, 7, 9-10.
function ranges(ids) {
  const s = [...ids].sort((a, b) => a - b), out = [];
  for (let i = 0; i < s.length; i++) {
    let k = i;
    while (k + 1 < s.length && s[k + 1] === s[k] + 1) k++;
    out.push(k > i ? `${s[i]}-${s[k]}` : `${s[i]}`);
    i = k;
  }
  return out.join(", ");
}

function renderJob() {
  const view = $("job-view");
  const j = selected && jobs.get(selected);
  if (!j) { view.hidden = true; return; }
  view.hidden = false;
  view.dataset.jobId = j.id;
  view.dataset.state = j.state;
  $("job-title").textContent = "Job " + baseName(j.input);
  const facts = $("job-facts");
  facts.replaceChildren();
  const fact = (k, v) => { if (v === undefined || v === null || v === "") return; const dt = document.createElement("dt"), dd = document.createElement("dd"); dt.textContent = k; dd.textContent = String(v); facts.append(dt, dd); };
  fact("Id", j.id); fact("State", j.state); fact("Input", j.input); fact("Output", j.output);
  fact("Frames", j.frames !== undefined ? `${j.framesDone || 0} of ${j.frames}` : undefined);
  fact("Progress", num(percent(j), 1) + " %"); fact("fps", num(j.fps, 1)); fact("ETA", ended(j.state) ? undefined : eta(j.etaSeconds));
  fact("Workers", j.workersAlive); fact("Error", j.error);
  $("job-cancel").disabled = ended(j.state);
  $("job-retry").disabled = !(j.state === "failed" || !ended(j.state));

  const running = Array.isArray(j.running) ? j.running : [];
  const failed = Array.isArray(j.failed) ? j.failed : [];
  const quarantined = Array.isArray(j.quarantined) ? j.quarantined : [];
  const done = Array.isArray(j.done) ? j.done : [];
  const busy = new Set([...done, ...running.map((r) => r.chunk), ...failed.map((f) => f.chunk), ...quarantined.map((q) => q.chunk)]);
  const waiting = [];
  if (typeof j.chunks === "number") for (let c = 0; c < j.chunks; c++) if (!busy.has(c)) waiting.push(c);
  const chunks = $("job-chunks").tBodies[0];
  chunks.replaceChildren();
  for (const [state, ids] of [["done", done], ["running", running.map((r) => r.chunk)], ["waiting", waiting],
                              ["failed, retried", failed.map((f) => f.chunk)], ["quarantined", quarantined.map((q) => q.chunk)]]) {
    const row = chunks.insertRow(); row.dataset.chunkState = state;
    cell(row, state); cell(row, String(ids.length), "num"); cell(row, ranges(ids));
  }
  const held = $("job-running").tBodies[0];
  held.replaceChildren();
  for (const r of running) {
    const row = held.insertRow();
    cell(row, String(r.chunk), "num"); cell(row, `${r.framesEncoded || 0} of ${r.frames}`, "num");
    cell(row, r.host); cell(row, String(r.pid), "num"); cell(row, num(r.runningSeconds, 0) + " s" + (r.stale ? " (stale)" : ""), "num");
  }
}

async function cancel(id) {
  const r = await call("DELETE", "/jobs/" + encodeURIComponent(id));
  if (r.data && r.data.id) { jobs.set(id, r.data); renderJobs(); renderJob(); }
  else if (r.data && r.data.error) say(r.data.error);
}

async function retry(id) {
  const r = await call("POST", "/jobs/" + encodeURIComponent(id) + "/retry");
  if (r.data && r.data.id) { jobs.set(id, r.data); renderJobs(); renderJob(); }
  else if (r.data && r.data.error) say(r.data.error);
}

async function submit(e) {
  e.preventDefault();
  const f = e.target, settings = {};
  if (f.encoder.value) settings.encoder = f.encoder.value;
  if (f.preset.value.trim()) settings.preset = f.preset.value.trim();
  if (f.crf.value !== "") settings.crf = Number(f.crf.value);
  if (f.maxSceneLength.value !== "") settings.maxSceneLength = Number(f.maxSceneLength.value);
  for (const flag of ["lossless", "mux", "overwrite"]) if (f[flag].checked) settings[flag] = true;
  const body = { input: f.input.value.trim(), output: f.output.value.trim(), settings, priority: Number(f.priority.value || 0) };
  if (f.profile.value.trim()) body.profile = f.profile.value.trim();
  const out = $("submit-result");
  out.className = "";
  const r = await call("POST", "/jobs", body);
  if (r.status === 201 && r.data) {
    jobs.set(r.data.id, r.data);
    renderJobs();
    out.textContent = `Submitted job ${r.data.id} (${baseName(r.data.input)}).`;
    out.dataset.jobId = r.data.id;
  } else {
    out.className = "error";
    out.textContent = r.data && r.data.error ? (r.data.field ? `${r.data.field}: ` : "") + r.data.error : `The server answered ${r.status}.`;
  }
}

async function signIn(e) {
  e.preventDefault();
  const field = $("token");
  const r = await call("POST", "/session", { token: field.value });
  field.value = "";
  if (r.status === 200) { $("signin-error").textContent = ""; await signedIn(); }
  else $("signin-error").textContent = r.status === 401 ? "Wrong token." : (r.data && r.data.error) || `The server answered ${r.status}.`;
}

document.addEventListener("DOMContentLoaded", async () => {
  $("signin").addEventListener("submit", signIn);
  $("submit").addEventListener("submit", submit);
  $("job-cancel").addEventListener("click", () => selected && cancel(selected));
  $("job-retry").addEventListener("click", () => selected && retry(selected));
  $("job-close").addEventListener("click", () => { selected = null; renderJob(); });
  const r = await fetch(api + "/jobs", { credentials: "same-origin" });
  if (r.status === 200) await signedIn(); else signedOut("");
});
