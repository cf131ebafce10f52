// gantool's web page: a generator exported to ONNX (G.onnx), sampled in the browser by onnxruntime-web.
// The latents are drawn here, from a seeded PRNG (mulberry32) with Box-Muller for the normal prior and uniform
// draws in [-1, 1) for the uniform one, so a seed gives the same grid on every visit (not the grid of
// `gantool sample --seed`, whose numpy streams a page cannot reproduce). ?latents=FILE.json draws fixed latents
// instead ({"z": [[...], ...], "labels": [...]}), as gantool's browser test does to compare pixels with Python.
"use strict";

(function () {
  const model = JSON.parse(document.getElementById("model-info").textContent);
  const [low, high] = model.output_range;
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const canvas = $("grid");
  const COUNT = 64; // a grid of 8 x 8
  const PAD = 2; // white pixels around each cell, as gantool's PNG grids have
  const WALK_STEPS = 24; // frames from one latent to the next
  const state = { session: null, z: null, labels: null, fixed: null, walking: false, drawn: 0, sessionMs: null, firstDrawMs: null };
  window.gantool = state; // what the browser test and the benchmark read

  function fail(message) {
    status.textContent = message;
    status.className = "error";
    state.error = message;
    document.body.dataset.state = "error";
  }

  // mulberry32: a small seeded PRNG, uniform in [0, 1)
  function prng(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function normal(random) {
    const u = 1 - random(); // (0, 1]: log(u) is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }

  // n latents from the model's prior; psi (normal prior) redraws every entry beyond psi standard deviations
  function drawLatents(n, seed, psi) {
    const random = prng(seed);
    const z = new Float32Array(n * model.latent_dim);
    for (let i = 0; i < z.length; i++) {
      if (model.latent === "uniform") {
        z[i] = random() * 2 - 1;
        continue;
      }
      let v = normal(random);
      while (psi !== null && Math.abs(v) > psi) v = normal(random);
      z[i] = v;
    }
    return z;
  }

  function drawLabels(n, seed) {
    const picked = $("label").value;
    const random = prng(seed ^ 0x9e3779b9);
    const labels = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (picked !== "random") labels[i] = BigInt(picked);
      else if (state.fixed && state.fixed.labels) labels[i] = BigInt(state.fixed.labels[i]);
      else labels[i] = BigInt(Math.floor(random() * model.classes.length));
    }
    return labels;
  }

  function psi() {
    return model.latent === "normal" && $("truncate").checked ? Number($("psi").value) : null;
  }

  async function generate(z, labels) {
    const n = z.length / model.latent_dim;
    const feeds = { [state.session.inputNames[0]]: new ort.Tensor("float32", z, [n, model.latent_dim]) };
    if (model.classes) feeds[state.session.inputNames[1]] = new ort.Tensor("int64", labels, [n]);
    const result = await state.session.run(feeds);
    return result[state.session.outputNames[0]].data;
  }

  // the picture gantool's PNGs show: a grid of cells (grey or RGB), or a scatter of 2-D points
  function render(x, n) {
    const shape = model.data_shape;
    if (shape.length === 1 && shape[0] === 2) return scatter(x, n);
    const side = shape.length === 1 ? Math.round(Math.sqrt(shape[0])) : 0;
    const [c, h, w] = shape.length === 1 ? [1, side, side] : shape;
    const columns = Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / columns);
    canvas.width = columns * (w + PAD) + PAD;
    canvas.height = rows * (h + PAD) + PAD;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(canvas.width, canvas.height);
    image.data.fill(255);
    const size = c * h * w;
    for (let i = 0; i < n; i++) {
      const top = PAD + Math.floor(i / columns) * (h + PAD);
      const left = PAD + (i % columns) * (w + PAD);
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const at = ((top + y) * canvas.width + left + xx) * 4;
          for (let k = 0; k < 3; k++) {
            const v = x[i * size + (c === 3 ? k : 0) * h * w + y * w + xx];
            const unit = Math.min(1, Math.max(-1, ((v - low) / (high - low)) * 2 - 1));
            image.data[at + k] = Math.round((unit + 1) * 127.5);
          }
        }
      }
    }
    ctx.putImageData(image, 0, 0);
    canvas.style.width = `${canvas.width * Math.max(1, Math.floor(512 / canvas.width))}px`;
  }

  function scatter(x, n) {
    canvas.width = canvas.height = 512;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, 512, 512);
    ctx.fillStyle = "#1f77b4";
    for (let i = 0; i < n; i++) {
      const u = ((x[2 * i] - low) / (high - low)) * 511;
      const v = (1 - (x[2 * i + 1] - low) / (high - low)) * 511;
      ctx.beginPath();
      ctx.arc(u, v, 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    canvas.style.width = "512px";
  }

  async function show(z, labels) {
    const n = z.length / model.latent_dim;
    render(await generate(z, labels), n);
    state.drawn += 1;
    if (state.firstDrawMs === null) state.firstDrawMs = performance.now();
    document.body.dataset.drawn = String(state.drawn);
  }

  async function draw() {
    const seed = Number($("seed").value) >>> 0;
    state.z = state.fixed ? Float32Array.from(state.fixed.z.flat()) : drawLatents(COUNT, seed, psi());
    const n = state.z.length / model.latent_dim;
    state.labels = model.classes ? drawLabels(n, seed) : null;
    await show(state.z, state.labels);
    const what = state.fixed ? "the given latents" : `seed ${seed}`;
    status.textContent = `${n} samples from ${what}, drawn by onnxruntime-web in your browser`;
    status.className = "";
  }

  // slerp under the normal prior (a straight line would cut through the ball's empty middle), lerp under the uniform one
  function between(a, b, t) {
    const dim = model.latent_dim;
    const out = new Float32Array(a.length);
    for (let s = 0; s < a.length; s += dim) {
      let dot = 0, na = 0, nb = 0;
      for (let j = s; j < s + dim; j++) { dot += a[j] * b[j]; na += a[j] * a[j]; nb += b[j] * b[j]; }
      const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
      const sin = Math.sin(omega);
      const slerp = model.latent === "normal" && sin > 1e-6;
      const wa = slerp ? Math.sin((1 - t) * omega) / sin : 1 - t;
      const wb = slerp ? Math.sin(t * omega) / sin : t;
      for (let j = s; j < s + dim; j++) out[j] = wa * a[j] + wb * b[j];
    }
    return out;
  }

  async function walk() {
    let from = state.z, leg = 0;
    let to = drawLatents(from.length / model.latent_dim, (Number($("seed").value) + 1000003 * ++leg) >>> 0, psi());
    while (state.walking) {
      for (let step = 1; step <= WALK_STEPS && state.walking; step++) {
        const started = performance.now();
        state.z = between(from, to, step / WALK_STEPS);
        await show(state.z, state.labels);
        await new Promise((r) => setTimeout(r, Math.max(0, 66 - (performance.now() - started))));
      }
      from = state.z;
      to = drawLatents(from.length / model.latent_dim, (Number($("seed").value) + 1000003 * ++leg) >>> 0, psi());
    }
  }

  function controls() {
    if (model.classes) {
      $("label-picker").hidden = false;
      model.classes.forEach((name, i) => $("label").add(new Option(name, String(i))));
    }
    $("truncation-picker").hidden = model.latent !== "normal";
    const redraw = () => { state.walking = false; $("walk").textContent = "walk"; draw().catch((e) => fail(`sampling failed: ${e.message || e}`)); };
    $("seed").addEventListener("change", redraw);
    $("label").addEventListener("change", redraw);
    $("truncate").addEventListener("change", redraw);
    $("psi").addEventListener("input", () => { $("psi-value").textContent = Number($("psi").value).toFixed(2); if ($("truncate").checked) redraw(); });
    $("another").addEventListener("click", () => { $("seed").value = String(Math.floor(Math.random() * 1e6)); redraw(); });
    $("walk").addEventListener("click", () => {
      state.walking = !state.walking;
      $("walk").textContent = state.walking ? "stop" : "walk";
      if (state.walking) walk().catch((e) => fail(`the walk failed: ${e.message || e}`));
    });
  }

  async function start() {
    if (typeof WebAssembly !== "object") {
      return fail("This browser has no WebAssembly, which onnxruntime-web needs to run the model: try a current Chrome, Firefox or Safari.");
    }
    if (typeof ort === "undefined") {
      return fail("onnxruntime-web did not load (from the script this page names): check the network, or export with --ort DIR for a local copy.");
    }
    const query = new URLSearchParams(location.search);
    if (query.has("seed")) $("seed").value = query.get("seed");
    controls();
    if (query.has("label") && model.classes) $("label").value = query.get("label");
    try {
      if (query.has("latents")) {
        const response = await fetch(query.get("latents"));
        if (!response.ok) throw new Error(`${query.get("latents")}: HTTP ${response.status}`);
        state.fixed = await response.json();
      }
    } catch (e) {
      return fail(`The fixed latents failed to load: ${e.message || e}`);
    }
    try {
      ort.env.wasm.numThreads = 1; // static hosting has no cross-origin isolation, which threads need
      state.session = await ort.InferenceSession.create("G.onnx", { executionProviders: ["wasm"] });
      state.sessionMs = performance.now(); // when onnxruntime-web had compiled its WebAssembly and loaded the model
    } catch (e) {
      return fail(`The model G.onnx failed to load: ${e.message || e}`);
    }
    try {
      await draw();
      document.body.dataset.state = "ready";
    } catch (e) {
      fail(`sampling failed: ${e.message || e}`);
    }
  }

  start();
})();
