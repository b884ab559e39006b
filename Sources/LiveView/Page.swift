import Classifier
import CoreTypes
import Pipeline

/// The page at `/`: HTML, CSS and JavaScript in one document, served from the binary, nothing
/// fetched from elsewhere. The emotion colours come from the overlay's, so the page, the
/// boxes in the video and the timeline agree.
enum Page {
    /// `{"angry":"rgb(230,40,40)",...}` in `Emotion.allCases` order.
    static var colourTable: String {
        let entries = Emotion.allCases.map { e -> String in
            let c = Colour.of(e)
            return "\"\(e.name)\":\"rgb(\(c.r),\(c.g),\(c.b))\""
        }
        return "{" + entries.joined(separator: ",") + "}"
    }

    static let html: String = head + body + "<script>\nconst COLOURS = \(colourTable);\n" + script + "</script>\n</body></html>\n"

    private static let head = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>fer-live</title>
    <style>
    :root { color-scheme: dark; --bg:#15171a; --panel:#1f2226; --line:#30343a; --text:#e6e6e6; --dim:#9aa0a6; }
    * { box-sizing: border-box; }
    body { margin:0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--text); }
    header { display:flex; align-items:center; gap:12px; padding:10px 16px; border-bottom:1px solid var(--line); }
    header h1 { font-size:16px; margin:0; font-weight:600; }
    #source { color:var(--dim); overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
    #state { margin-left:auto; padding:2px 10px; border-radius:10px; font-weight:600; background:#2d6a2d; }
    #state.ended { background:#555; } #state.failed, #state.gone { background:#8a2a2a; }
    main { display:grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); gap:12px; padding:12px 16px; }
    .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px; }
    #videoBox { display:flex; justify-content:center; align-items:center; min-height:200px; background:#000; border-radius:8px; overflow:hidden; }
    #video { max-width:100%; max-height:70vh; display:block; }
    #faces { display:flex; flex-direction:column; gap:10px; }
    #faces:empty::after { content:"no face on screen"; color:var(--dim); }
    .face-card { background:var(--panel); border:1px solid var(--line); border-left:6px solid var(--c); border-radius:8px; padding:8px 10px; }
    .face-card h2 { margin:0 0 6px; font-size:14px; display:flex; justify-content:space-between; }
    .face-card .top { color:var(--c); }
    .bar { display:grid; grid-template-columns: 64px 1fr 40px; align-items:center; gap:6px; font-size:12px; }
    .bar .track { height:8px; background:#33373d; border-radius:4px; overflow:hidden; }
    .bar .fill { height:100%; background:var(--c); }
    .bar .pct { text-align:right; color:var(--dim); font-variant-numeric: tabular-nums; }
    #figures { display:grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap:6px 12px; }
    #figures div { display:flex; flex-direction:column; }
    #figures span { color:var(--dim); font-size:11px; text-transform:uppercase; letter-spacing:.04em; }
    #figures b { font-weight:600; font-variant-numeric: tabular-nums; }
    #timelineBox { grid-column: 1 / -1; }
    #timelineHead { display:flex; align-items:center; gap:12px; margin-bottom:6px; flex-wrap:wrap; }
    #timelineHead h2 { font-size:14px; margin:0; }
    #legend { display:flex; gap:10px; flex-wrap:wrap; font-size:12px; color:var(--dim); }
    #legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:-1px; }
    #range { margin-left:auto; }
    #timeline { width:100%; height:220px; display:block; }
    .side { display:flex; flex-direction:column; gap:12px; }
    </style></head>

    """

    private static let body = """
    <body>
    <header><h1>fer-live</h1><div id="source">connecting…</div><div id="state">running</div></header>
    <main>
      <div class="side">
        <div id="videoBox"><img id="video" src="/video.mjpg" alt="annotated video"></div>
        <div class="panel" id="figures"></div>
      </div>
      <div class="side"><div id="faces"></div></div>
      <div class="panel" id="timelineBox">
        <div id="timelineHead"><h2>Emotions over time</h2><div id="legend"></div>
          <label id="range" hidden><input type="checkbox" id="wholeRun" checked> whole run</label></div>
        <canvas id="timeline" data-samples="0"></canvas>
      </div>
    </main>

    """

    private static let script = #"""
    "use strict";
    const EMOTIONS = Object.keys(COLOURS);
    const WINDOW = 60;                      // seconds shown for a live run
    const tracks = new Map();               // face id -> [[t, p0..p6 in percent], ...]
    let status = null, live = true, ended = false, lastTime = 0, onScreen = [];
    const $ = id => document.getElementById(id);

    for (const e of EMOTIONS) {
      const s = document.createElement("span");
      s.innerHTML = `<i style="background:${COLOURS[e]}"></i>${e}`;
      $("legend").appendChild(s);
    }

    function addSample(id, t, percents) {
      let track = tracks.get(id);
      if (!track) { track = []; tracks.set(id, track); }
      if (track.length && track[track.length - 1][0] >= t) return;
      track.push([t, ...percents]);
      if (live) {                            // a live run keeps the last minute
        let cut = 0;
        while (cut < track.length && track[cut][0] < t - WINDOW * 1.2) cut++;
        if (cut > 0) track.splice(0, cut);
      }
    }

    // ---- face cards -------------------------------------------------------------------
    function card(face) {
      const top = face.emotion, pct = p => Math.round(p * 100);
      const bars = EMOTIONS.map(e => `<div class="bar" style="--c:${COLOURS[e]}"><span>${e}</span>` +
        `<div class="track"><div class="fill" style="width:${pct(face.probabilities[e])}%"></div></div>` +
        `<span class="pct">${pct(face.probabilities[e])}%</span></div>`).join("");
      return `<div class="face-card" data-face="${face.face_id}" style="--c:${COLOURS[top]}">` +
        `<h2><span>Face ${face.face_id}</span><span class="top">${top} ${pct(face.confidence)}%</span></h2>${bars}</div>`;
    }
    let cardsDue = false;
    function drawCards() {
      cardsDue = false;
      $("faces").innerHTML = onScreen.map(card).join("");
    }

    // ---- figures ----------------------------------------------------------------------
    function fmt(x, digits = 0) { return x === undefined || x === null ? "–" : Number(x).toFixed(digits); }
    function clock(s) {
      if (s === undefined || s === null) return "–";
      s = Math.max(0, Math.round(s));
      const m = Math.floor(s / 60), r = s % 60;
      return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
    }
    function showStatus(s) {
      status = s; live = s.source.kind === "live";
      $("source").textContent = `${s.source.name} · ${s.source.width}×${s.source.height}` +
        (s.source.frame_rate ? ` · ${fmt(s.source.frame_rate, 2)} fps` : "") + ` · ${s.source.kind}`;
      $("range").hidden = live;
      const rows = [
        ["state", s.state], ["fps", fmt(s.fps, 1)], ["frames", s.frames + (s.source.total_frames ? ` / ${s.source.total_frames}` : "")],
        ["faces now", s.faces_on_screen], ["faces seen", s.faces], ["dropped", s.dropped],
        ["label latency", `${fmt(s.latency_median_ms)} ms`], ["elapsed", clock(s.elapsed_s)],
      ];
      if (s.progress !== undefined) rows.push(["progress", `${fmt(s.progress * 100, 1)}%`], ["eta", clock(s.eta_s)]);
      rows.push(["viewers", s.viewers.video], ["viewer drops", s.viewers.dropped_frames]);
      const top = Object.entries(s.emotions).sort((a, b) => b[1] - a[1])[0];
      if (top && top[1] > 0) rows.push(["mostly", `${top[0]} ${fmt(top[1] * 100)}%`]);
      $("figures").innerHTML = rows.map(([k, v]) => `<div><span>${k}</span><b>${v}</b></div>`).join("");
      setState(s.state);
    }
    function setState(name) {
      const el = $("state");
      el.textContent = name === "gone" ? "server stopped" : name === "ended" ? "run ended" : name;
      el.className = name;
      document.body.dataset.state = name;
    }

    // ---- timeline ---------------------------------------------------------------------
    let timelineDue = false;
    function drawTimeline() {
      timelineDue = false;
      const canvas = $("timeline"), dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth, h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
      const g = canvas.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const whole = !live && $("wholeRun").checked;
      // A live run: the last minute, or from the start while the run is shorter (at least
      // ten seconds wide); a file: the whole run, or its last minute.
      const t0 = whole ? 0 : Math.max(0, lastTime - WINDOW);
      const t1 = Math.max(lastTime, t0 + (whole ? 1 : 10));
      // The faces seen most recently, up to four rows; a face seen in fewer than five frames
      // (a detector's blip) gets no row.
      const ids = [...tracks.entries()].filter(([, tr]) => tr.length >= 5 && tr[tr.length - 1][0] >= t0)
        .sort((a, b) => b[1][b[1].length - 1][0] - a[1][a[1].length - 1][0]).slice(0, 4).map(([id]) => id).sort((a, b) => a - b);
      const left = 56, bottom = 18, gap = 6, plotW = w - left - 8;
      const rowH = ids.length ? (h - bottom - gap * (ids.length - 1)) / ids.length : 0;
      let drawn = 0;
      g.font = "12px system-ui, sans-serif";
      ids.forEach((id, row) => {
        const y0 = row * (rowH + gap), track = tracks.get(id);
        g.fillStyle = "#2a2e33"; g.fillRect(left, y0, plotW, rowH);
        g.fillStyle = "#9aa0a6"; g.fillText(`face ${id}`, 4, y0 + rowH / 2 + 4);
        // One column per sample, the seven probabilities stacked, a sample's column reaching
        // to the next one (gaps longer than a second stay empty: the face was not seen).
        for (let i = 0; i < track.length; i++) {
          const s = track[i];
          if (s[0] < t0) continue;
          const next = i + 1 < track.length && track[i + 1][0] - s[0] < 1 ? track[i + 1][0] : s[0] + 0.1;
          // Whole pixels, so neighbouring columns meet without seams.
          const x = Math.floor(left + (s[0] - t0) / (t1 - t0) * plotW);
          const x2 = Math.ceil(left + (Math.min(next, t1) - t0) / (t1 - t0) * plotW);
          const cw = Math.max(1, x2 - x);
          // Rounded percentages need not add up to 100: scale them to the row.
          let total = 0;
          for (let e = 1; e <= 7; e++) total += s[e];
          let y = y0 + rowH;
          for (let e = 0; e < 7; e++) {
            const hh = total > 0 ? s[e + 1] / total * rowH : 0;
            if (hh <= 0) continue;
            g.fillStyle = COLOURS[EMOTIONS[e]];
            g.fillRect(x, y - hh, cw, hh);
            y -= hh;
          }
          drawn++;
        }
      });
      // Time axis.
      g.fillStyle = "#9aa0a6";
      const span = t1 - t0, step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find(s => span / s <= 8) || 3600;
      for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
        const x = left + (t - t0) / span * plotW;
        g.fillRect(x, h - bottom, 1, 4);
        g.fillText(clock(t), x - 10, h - 3);
      }
      if (!ids.length) g.fillText("no faces yet", left + 8, (h - bottom) / 2);
      canvas.dataset.samples = drawn;
      canvas.dataset.faces = ids.length;
    }

    function schedule() {
      if (!cardsDue) { cardsDue = true; setTimeout(drawCards, 100); }
      if (!timelineDue) { timelineDue = true; setTimeout(drawTimeline, 250); }
    }
    $("wholeRun").addEventListener("change", drawTimeline);
    window.addEventListener("resize", drawTimeline);

    // ---- data -------------------------------------------------------------------------
    async function poll() {
      try {
        const r = await fetch("/api/status", { cache: "no-store" });
        showStatus(await r.json());
      } catch (e) {
        if (ended) setState("gone");
      }
      if (!ended || status?.state === "running") setTimeout(poll, 1000);
      else setTimeout(poll, 5000);
    }

    function follow() {
      const events = new EventSource("/events");
      events.onmessage = m => {
        const frame = JSON.parse(m.data);
        lastTime = Math.max(lastTime, frame.time_s);
        for (const f of frame.faces) addSample(f.face_id, frame.time_s, EMOTIONS.map(e => Math.round(f.probabilities[e] * 100)));
        onScreen = frame.faces;
        document.body.dataset.frame = frame.frame;
        schedule();
      };
      events.addEventListener("end", m => {
        ended = true;
        events.close();
        showStatus(JSON.parse(m.data));
        schedule();
      });
    }

    async function start() {
      try {
        const r = await fetch("/api/status", { cache: "no-store" });
        showStatus(await r.json());
        const history = await (await fetch("/api/history", { cache: "no-store" })).json();
        for (const [id, samples] of Object.entries(history.faces)) {
          for (const s of samples) { addSample(Number(id), s[0], s.slice(1)); lastTime = Math.max(lastTime, s[0]); }
        }
        if (history.last) { onScreen = history.last.faces; lastTime = Math.max(lastTime, history.last.time_s); }
      } catch (e) { setState("gone"); return; }
      follow();
      setTimeout(poll, 1000);
      schedule();
    }
    const video = $("video");
    setInterval(() => { document.body.dataset.videoWidth = video.naturalWidth; document.body.dataset.videoHeight = video.naturalHeight; }, 250);
    start();

    """#
}
