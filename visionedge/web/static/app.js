// visionedge page: plain JS, no build step. Data is always inserted with textContent,
// never innerHTML, so labels and zone names containing HTML are shown, not run.
"use strict";

const $ = (id) => document.getElementById(id);
let CSRF = null;
let READ_ONLY = false;
let tab = "live";

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

async function api(path, opts) {
  const o = Object.assign({ credentials: "same-origin", headers: {} }, opts || {});
  if (o.method && o.method !== "GET") o.headers["X-CSRF-Token"] = CSRF;
  const r = await fetch(path, o);
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  return r;
}

function setFacts(dl, facts) {
  dl.replaceChildren();
  for (const [k, v] of facts) { dl.append(el("dt", k), el("dd", v === null || v === undefined ? "-" : v)); }
}

// ---- tabs -------------------------------------------------------------------------------
function show(name) {
  tab = name;
  for (const b of document.querySelectorAll("button.tab")) b.classList.toggle("active", b.dataset.tab === name);
  for (const p of document.querySelectorAll("section.panel")) p.classList.toggle("hidden", p.id !== name);
  if (name === "editor") editorOpen();
  if (name === "events") loadEvents();
  if (name === "status") loadStatus();
  if (name === "dataset") loadDataset();
}

// ---- live -------------------------------------------------------------------------------
let liveBusy = false;
let liveUrl = null;
let liveFps = 5;
function overlays() {
  return [...document.querySelectorAll("#overlays input:checked")].map((i) => i.value).join(",");
}
async function liveTick() {
  if (tab !== "live" || liveBusy || document.hidden) return;
  liveBusy = true;
  try {
    const r = await api("/api/live.jpg?overlays=" + encodeURIComponent(overlays()));
    if (r.ok) {
      const url = URL.createObjectURL(await r.blob());
      const img = $("live-img");
      img.onload = () => { if (liveUrl) URL.revokeObjectURL(liveUrl); liveUrl = url; img.dataset.frame = r.headers.get("X-Frame-Index"); };
      img.src = url;
    }
  } catch (e) { /* next tick retries */ } finally { liveBusy = false; }
}

async function chartTick() {
  if (tab !== "live") return;
  let h, s;
  try {
    h = await (await api("/api/history")).json();
    s = await (await api("/api/status")).json();
  } catch (e) { return; }
  drawChart(h);
  setFacts($("live-facts"), [
    ["gate", s.gate], ["camera", s.camera], ["tamper", s.tamper],
    ["changed %", s.changed_pct], ["fps", s.stats.fps], ["dropped", s.stats.dropped_frames],
  ]);
  $("state").textContent = `gate ${s.gate} · camera ${s.camera} · ${s.stats.fps} fps`;
}

function drawChart(h) {
  const c = $("chart"), g = c.getContext("2d");
  const W = c.width, H = c.height, pts = h.points;
  g.clearRect(0, 0, W, H);
  const top = Math.max(h.start_pct * 2, ...pts.map((p) => p[1]), 1);
  const ymax = Math.min(Math.max(top, h.global_pct * 0.1), 100) * 1.1;
  const y = (v) => H - 2 - (Math.min(v, ymax) / ymax) * (H - 4);
  const x = (i) => (pts.length < 2 ? 0 : (i / (pts.length - 1)) * W);
  g.fillStyle = "rgba(37,99,235,0.12)";
  pts.forEach((p, i) => { if (p[2]) g.fillRect(x(i), 0, Math.max(1, W / pts.length), H); });
  for (const [v, col] of [[h.start_pct, "#d97706"], [h.stop_pct, "#16a34a"], [h.global_pct, "#dc2626"]]) {
    if (v > ymax) continue;
    g.strokeStyle = col; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(0, y(v)); g.lineTo(W, y(v)); g.stroke();
  }
  g.setLineDash([]); g.strokeStyle = "#111"; g.beginPath();
  pts.forEach((p, i) => (i ? g.lineTo(x(i), y(p[1])) : g.moveTo(x(i), y(p[1]))));
  g.stroke();
}

// ---- editor -----------------------------------------------------------------------------
let shapes = [];   // {kind: "mask"|"zone", name, polygon: [[x, y], ...]} normalised
let draft = [];
async function editorOpen() {
  const g = await (await api("/api/geometry")).json();
  shapes = g.masks.map((p) => ({ kind: "mask", name: "", polygon: p }))
    .concat(g.zones.map((z) => ({ kind: "zone", name: z.name, polygon: z.polygon })));
  draft = [];
  listShapes();
  await editorPicture();
}
async function editorPicture() {
  const r = await api("/api/live.jpg?overlays=");
  if (!r.ok) return;
  const img = $("edit-img");
  img.onload = () => { const c = $("edit-canvas"); c.width = img.clientWidth; c.height = img.clientHeight; drawShapes(); };
  img.src = URL.createObjectURL(await r.blob());
}
function drawShapes() {
  const c = $("edit-canvas"), g = c.getContext("2d"), W = c.width, H = c.height;
  g.clearRect(0, 0, W, H);
  const poly = (pts, fill, stroke) => {
    if (!pts.length) return;
    g.beginPath(); pts.forEach(([px, py], i) => (i ? g.lineTo(px * W, py * H) : g.moveTo(px * W, py * H)));
    g.closePath(); if (fill) { g.fillStyle = fill; g.fill(); } g.strokeStyle = stroke; g.lineWidth = 2; g.stroke();
  };
  for (const s of shapes) {
    if (s.kind === "mask") poly(s.polygon, "rgba(20,20,20,0.55)", "#000");
    else {
      poly(s.polygon, "rgba(0,200,255,0.25)", "#00c8ff");
      g.fillStyle = "#00c8ff"; g.font = "14px sans-serif"; g.fillText(s.name, s.polygon[0][0] * W + 4, s.polygon[0][1] * H + 16);
    }
  }
  poly(draft, null, "#ff00ff");
  g.fillStyle = "#ff00ff";
  for (const [px, py] of draft) g.fillRect(px * W - 3, py * H - 3, 6, 6);
}
function listShapes() {
  const ul = $("shapes");
  ul.replaceChildren();
  shapes.forEach((s, i) => {
    const li = el("li", `${s.kind}${s.kind === "zone" ? " " + s.name : ""} (${s.polygon.length} points) `);
    const del = el("button", "delete", { "data-index": String(i), class: "delete" });
    del.addEventListener("click", () => { shapes.splice(i, 1); listShapes(); drawShapes(); });
    li.append(del);
    ul.append(li);
  });
}
function editorClick(ev) {
  const c = $("edit-canvas"), r = c.getBoundingClientRect();
  const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  draft.push([clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height)]);
  drawShapes();
}
function finish() {
  const msg = $("save-msg");
  if (draft.length < 3) { msg.textContent = "a polygon needs at least 3 points"; msg.className = "error"; return; }
  const kind = $("kind").value, name = $("zone-name").value.trim();
  if (kind === "zone" && !/^[A-Za-z0-9_-]{1,32}$/.test(name)) {
    msg.textContent = "zone name: 1-32 letters, digits, _ or -"; msg.className = "error"; return;
  }
  shapes.push({ kind, name: kind === "zone" ? name : "", polygon: draft });
  draft = []; msg.textContent = ""; listShapes(); drawShapes();
}
async function save() {
  const msg = $("save-msg");
  const body = {
    masks: shapes.filter((s) => s.kind === "mask").map((s) => s.polygon),
    zones: shapes.filter((s) => s.kind === "zone").map((s) => ({ name: s.name, polygon: s.polygon })),
  };
  const r = await api("/api/geometry", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  let data = {};
  try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
  if (r.ok) { msg.textContent = `saved ${data.masks} mask(s), ${data.zones} zone(s); applied by reload`; msg.className = "ok"; }
  else { msg.textContent = data.error || text; msg.className = "error"; }
}

// ---- events -----------------------------------------------------------------------------
async function loadEvents(ev) {
  if (ev) ev.preventDefault();
  const q = new URLSearchParams();
  if ($("f-label").value) q.set("label", $("f-label").value);
  if ($("f-zone").value) q.set("zone", $("f-zone").value);
  if ($("f-since").value) q.set("since_ms", String(new Date($("f-since").value).getTime()));
  const data = await (await api("/api/events?" + q)).json();
  $("events-note").textContent = data.recordings ? `${data.events.length} event(s)` :
    "recording.enabled is false: events are listed from recordings only";
  const tb = document.querySelector("#event-table tbody");
  tb.replaceChildren();
  for (const e of data.events) {
    const tr = el("tr");
    const snap = el("td");
    const base = "/media/" + encodeURIComponent(e.recording) + "/";
    if (e.snapshot) snap.append(el("img", null, { src: base + e.snapshot, alt: "snapshot" }));
    const rec = el("td");
    if (e.video) {
      const a = el("a", e.video.endsWith(".mp4") ? "play" : "download", { href: base + e.video });
      if (e.video.endsWith(".mp4")) a.addEventListener("click", (x) => { x.preventDefault(); const v = $("player"); v.src = base + e.video; v.classList.remove("hidden"); v.play(); });
      rec.append(a);
    }
    const tl = el("td");
    tl.append(timeline(e.timeline));
    tr.append(snap, el("td", e.label), el("td", e.score === null ? "" : e.score.toFixed(2)),
      el("td", e.zones.join(", ")), tl, el("td", e.duration_ms === null ? "" : (e.duration_ms / 1000).toFixed(1) + " s"),
      el("td", e.peak_changed_pct), el("td", new Date(e.recorded_ms).toLocaleString()), rec);
    tb.append(tr);
  }
}

// One small chart per event: changed % over time, a dot where a label was known.
function timeline(points) {
  const c = el("canvas", null, { width: "180", height: "48", class: "timeline" });
  const pts = (points || []).filter((p) => p[0] !== null && p[1] !== null);
  const titles = pts.filter((p) => p[2]).map((p) => `${(p[0] / 1000).toFixed(1)} s: ${p[2]} ${p[3] === null ? "" : p[3].toFixed(2)}`);
  c.title = titles.join("\n");
  if (pts.length < 1) return c;
  const g = c.getContext("2d"), W = c.width, H = c.height;
  const tmax = Math.max(1, ...pts.map((p) => p[0])), ymax = Math.max(1, ...pts.map((p) => p[1]));
  const x = (t) => 2 + (t / tmax) * (W - 4), y = (v) => H - 2 - (v / ymax) * (H - 4);
  g.strokeStyle = "#2563eb"; g.beginPath();
  pts.forEach((p, i) => (i ? g.lineTo(x(p[0]), y(p[1])) : g.moveTo(x(p[0]), y(p[1]))));
  g.stroke();
  g.fillStyle = "#16a34a";
  for (const p of pts) if (p[2]) g.fillRect(x(p[0]) - 2, y(p[1]) - 2, 4, 4);
  return c;
}

// ---- dataset ----------------------------------------------------------------------------
let dsClass = null;
let dsClasses = {};
function drawClasses() {
  const box = $("class-list");
  box.replaceChildren();
  for (const [c, n] of Object.entries(dsClasses)) {
    const b = el("button", `${c} (${n})`, { "data-class": c });
    if (c === dsClass) b.classList.add("active");
    b.addEventListener("click", () => { dsClass = c; drawClasses(); loadCrops(); });
    box.append(b);
  }
}
async function loadDataset() {
  const d = await (await api("/api/dataset")).json();
  dsClasses = d.classes;
  $("dataset-note").textContent = d.dataset ? `dataset: ${d.dataset}` : "no dataset configured (web.dataset)";
  if (!(dsClass in dsClasses)) dsClass = Object.keys(dsClasses)[0] || null;
  drawClasses();
  await loadCrops();
}
async function loadCrops() {
  const grid = $("crops");
  grid.replaceChildren();
  if (!dsClass) return;
  const cls = dsClass;
  const d = await (await api("/api/dataset/" + encodeURIComponent(cls))).json();
  for (const name of d.crops) {
    const tile = el("div", null, { class: "crop", "data-name": name });
    const src = "/crops/" + encodeURIComponent(cls) + "/" + encodeURIComponent(name);
    tile.append(el("img", null, { src, alt: name, loading: "lazy" }), el("div", name, { class: "name" }));
    for (const target of Object.keys(dsClasses)) {
      if (target === cls) continue;
      const b = el("button", "→ " + target, { "data-to": target });
      b.disabled = READ_ONLY;
      b.addEventListener("click", () => moveCrop(tile, name, cls, target));
      tile.append(b);
    }
    grid.append(tile);
  }
}
async function moveCrop(tile, name, from, to) {
  const r = await api("/api/dataset/move", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, from, to }) });
  const d = await r.json().catch(() => ({ error: "HTTP " + r.status }));
  const msg = $("dataset-msg");
  if (!r.ok) { msg.textContent = d.error; msg.className = "error"; return; }
  msg.textContent = `${name}: ${from} → ${to}`; msg.className = "ok";
  tile.remove();
  dsClasses = d.classes;
  drawClasses();
}

// ---- status -----------------------------------------------------------------------------
async function loadStatus() {
  const s = await (await api("/api/status")).json();
  const st = s.stats;
  setFacts($("status-list"), [
    ["device", s.device], ["camera", s.camera], ["gate", s.gate], ["tamper", s.tamper],
    ["fps", st.fps], ["frames", st.frames], ["dropped frames", st.dropped_frames],
    ["events", st.events], ["spool depth", st.spool_depth], ["broker", st.spool_depth === undefined ? "MQTT off" : (st.mqtt_connected ? "connected" : "disconnected")],
    ["model", s.model], ["uptime (s)", st.uptime_s], ["reloads", st.reloads],
    ["visionedge", s.versions.visionedge], ["python", s.versions.python], ["opencv", s.versions.opencv],
    ["config", s.config_path], ["read-only", READ_ONLY ? "yes" : "no"],
  ]);
  const p = $("metrics-link");
  p.replaceChildren();
  if (s.metrics_url) p.append(el("a", "Prometheus metrics", { href: s.metrics_url }));
  else p.textContent = "metrics.enabled is false";
}

// ---- start ------------------------------------------------------------------------------
async function main() {
  const s = await (await api("/api/session")).json();
  CSRF = s.csrf; READ_ONLY = s.read_only;
  if (READ_ONLY) { $("save").disabled = true; $("save-msg").textContent = "read-only (web.read_only)"; }
  for (const b of document.querySelectorAll("button.tab")) b.addEventListener("click", () => show(b.dataset.tab));
  $("logout").addEventListener("click", async () => { await api("/logout", { method: "POST" }); location.href = "/login"; });
  $("edit-canvas").addEventListener("click", editorClick);
  $("finish").addEventListener("click", finish);
  $("undo").addEventListener("click", () => { draft.pop(); drawShapes(); });
  $("refresh-frame").addEventListener("click", editorPicture);
  $("save").addEventListener("click", save);
  $("event-filter").addEventListener("submit", loadEvents);
  setInterval(liveTick, 1000 / liveFps);
  setInterval(chartTick, 1000);
  document.body.dataset.ready = "1";
  liveTick(); chartTick();
}
main();
