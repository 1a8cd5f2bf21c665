// The page side of ganlab.viz.view.PlotlyView: draws the plotly figure the
// kernel sends, and tells the kernel when it has been drawn (the acknowledgement
// that keeps the kernel from sending frames faster than the page can show them).
//
// Messages: kernel -> page: the synced traits `figure` (plotly JSON) and `frame`
// (a counter), and once per page the custom message {type: "plotly.js", source};
// page -> kernel: {type: "view"} (a view opened), {type: "need plotly.js"}, {type: "drawn", frame} and
// {type: "click", x, y, trace}.

// plotly.js comes from the kernel's own plotly package (no network needed),
// once per page, whichever view asks first.
function loadPlotly(model) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.ganlabPlotly) {
    window.ganlabPlotly = new Promise((resolve, reject) => {
      const onMessage = (msg) => {
        if (!msg || msg.type !== "plotly.js") return;
        model.off("msg:custom", onMessage);
        // plotly.min.js is a UMD bundle: where require.js is on the page (the
        // classic notebook) it would register a module instead of window.Plotly.
        const define = window.define;
        window.define = undefined;
        try {
          const script = document.createElement("script");
          script.textContent = msg.source;
          document.head.appendChild(script);
        } finally {
          window.define = define;
        }
        if (window.Plotly) resolve(window.Plotly);
        else reject(new Error("plotly.js did not load"));
      };
      model.on("msg:custom", onMessage);
      model.send({ type: "need plotly.js" });
    });
  }
  return window.ganlabPlotly;
}

// Resolves once the browser has painted what was just drawn, or after 50 ms at
// most: headless and hidden pages may hold animation frames back indefinitely,
// and a frame that is never acknowledged would stop the kernel's next one.
function nextPaint() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 50);
  });
}

function render({ model, el }) {
  const div = document.createElement("div");
  el.appendChild(div);
  let drawing = false;
  let pending = false;
  let clicks = false;

  // Frames that arrive while one is being drawn are not queued: only the
  // newest is drawn next, so a slow page never works through a backlog.
  async function draw() {
    if (drawing) {
      pending = true;
      return;
    }
    drawing = true;
    try {
      do {
        pending = false;
        const frame = model.get("frame");
        const fig = JSON.parse(model.get("figure") || "{}");
        const Plotly = await loadPlotly(model);
        await Plotly.react(div, fig.data || [], fig.layout || {}, { responsive: false, displaylogo: false });
        if (!clicks && div.on) {
          clicks = true;
          div.on("plotly_click", (event) => {
            const p = event && event.points && event.points[0];
            if (p) model.send({ type: "click", x: p.x, y: p.y, trace: (p.data && p.data.name) || "" });
          });
        }
        div.dataset.frame = frame; // what is on screen (tests read it)
        await nextPaint();
        model.send({ type: "drawn", frame });
      } while (pending);
    } catch (error) {
      div.textContent = "ganlab: the figure could not be drawn (" + error + ")";
    } finally {
      drawing = false;
    }
  }

  model.on("change:frame", draw);
  model.send({ type: "view" }); // from now on the kernel waits for "drawn" before the next frame
  draw();
  return () => {
    model.off("change:frame", draw);
    if (window.Plotly && div.data) window.Plotly.purge(div);
  };
}

export default { render };
