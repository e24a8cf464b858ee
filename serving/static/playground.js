// The playground of `meav serve`: one column (setting A) or two side by side (A and B), each with a λ slider per
// alignment vector and its own conversation; Send streams the same prompt to every visible column at once
// through POST /v1/chat/completions (server-sent events), each with its own `alignment`.
"use strict";

const STEP = 0.05;
const $ = (id) => document.getElementById(id);
const state = { model: null, range: [-3, 3], avs: [], columns: [] };

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const fmt = (x) => (Math.abs(x) < 1e-9 ? "0" : x.toFixed(2));

function authHeaders() {
  const key = $("key").value.trim();
  if (key) localStorage.setItem("meav-api-key", key);
  return key ? { authorization: `Bearer ${key}` } : {};
}

// -- a column: sliders and a conversation --------------------------------------------------------------------
function buildColumn(letter) {
  const id = letter.toLowerCase();
  const col = { letter, id, sliders: {}, history: [] };
  const summary = el("div", { className: "summary", id: `summary-${id}` });
  const chat = el("div", { className: "chat", id: `chat-${id}` });
  const section = el("section", { className: "column", id: `col-${id}` }, el("h2", {}, `Setting ${letter}`), summary);
  for (const av of state.avs) section.append(buildSlider(col, av));
  if (!state.avs.length) section.append(el("p", { className: "empty" }, "No AVs served: the base model only."));
  section.append(chat);
  Object.assign(col, { section, summary, chat });
  updateSummary(col);
  return col;
}

function buildSlider(col, av) {
  const [lo, hi] = state.range;
  const input = el("input", {
    type: "range", min: lo, max: hi, step: STEP, value: 0, id: `${col.id}-${av.name}`, title: `λ for ${av.name}`,
  });
  const output = el("output", { id: `${col.id}-${av.name}-value` }, "0");
  const marks = el("div", { className: "marks" });
  const presets = [["base", 0], ...Object.entries(av.recommended_lambda || {})]
    .filter(([, lam]) => lam !== null && lam >= lo && lam <= hi)
    .sort((x, y) => x[1] - y[1]);
  for (const [i, [level, lam]] of presets.entries()) {
    const button = el("button", {
      type: "button", className: `${level === "base" ? "zero" : ""} ${i % 2 ? "low" : ""}`, textContent: `${level} ${fmt(lam)}`,
      title: level === "base" ? "λ 0: the base model" : `the λ ${av.name}'s sweep recommends for ${level}`,
    });
    button.dataset.level = level;
    button.dataset.lambda = lam;
    button.style.left = `${((lam - lo) / (hi - lo)) * 100}%`;
    button.addEventListener("click", () => {
      input.value = lam;
      input.dispatchEvent(new Event("input"));
    });
    marks.append(button);
  }
  input.addEventListener("input", () => {
    output.textContent = fmt(Number(input.value));
    for (const b of marks.children) b.classList.toggle("on", Math.abs(Number(b.dataset.lambda) - Number(input.value)) < 1e-9);
    updateSummary(col);
  });
  col.sliders[av.name] = input;
  const about = [av.domain !== av.name && av.domain, av.target && `${av.target} AV`, av.low_rank && "low-rank"];
  const title = `${av.name} ${about.some(Boolean) ? `(${about.filter(Boolean).join(", ")})` : ""}`;
  return el("div", { className: "av" }, el("div", { className: "head" }, el("span", {}, title), output), input, marks);
}

function alignmentOf(col) {
  const out = {};
  for (const [name, input] of Object.entries(col.sliders)) {
    const lam = Number(input.value);
    if (Math.abs(lam) > 1e-9) out[name] = Number(lam.toFixed(6));
  }
  return out;
}

function updateSummary(col) {
  const parts = Object.entries(alignmentOf(col)).map(([n, lam]) => `${n} ${fmt(lam)}`);
  col.summary.textContent = parts.length ? `alignment: ${parts.join(", ")}` : "alignment: none (the base model)";
}

// -- sending: one streamed request per visible column, all at once -------------------------------------------
async function ask(col, prompt) {
  col.history.push({ role: "user", content: prompt });
  col.chat.append(el("div", { className: "msg user" }, prompt));
  const answer = el("div", { className: "msg assistant" });
  answer.dataset.state = "streaming";
  answer.dataset.alignment = JSON.stringify(alignmentOf(col));
  col.chat.append(answer);
  const body = {
    model: state.model, messages: col.history, stream: true, alignment: alignmentOf(col),
    max_tokens: Number($("max-tokens").value) || 64, temperature: Number($("temperature").value) || 0,
  };
  let text = "";
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json", ...authHeaders() }, body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error?.message || `HTTP ${r.status}`);
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
        const data = JSON.parse(event.slice(6));
        if (data.error) throw new Error(data.error.message);
        text += data.choices?.[0]?.delta?.content || "";
        answer.textContent = text;
      }
    }
    col.history.push({ role: "assistant", content: text });
    answer.dataset.state = "done";
  } catch (e) {
    col.history.pop(); // the question goes unanswered: the next one must not follow a dangling turn
    answer.textContent = `error: ${e.message}`;
    answer.dataset.state = "error";
  }
}

async function send(event) {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  $("send").disabled = true;
  $("prompt").value = "";
  try {
    await Promise.all(state.columns.filter((c) => !c.section.hidden).map((c) => ask(c, prompt)));
  } finally {
    $("send").disabled = false;
    $("prompt").focus();
  }
}

function clearChats() {
  for (const col of state.columns) {
    col.history = [];
    col.chat.replaceChildren();
  }
}

function setCompare() {
  const on = $("compare").checked;
  state.columns[1].section.hidden = !on;
  $("columns").classList.toggle("compare", on);
}

async function init() {
  const health = await (await fetch("/health")).json();
  Object.assign(state, { model: health.model, range: health.lambda_range, avs: health.alignment_vectors });
  $("model").textContent = `${health.model} · ${health.mode}`;
  $("range").textContent = `λ range [${state.range.join(", ")}]`;
  $("key-label").hidden = !health.auth;
  $("key").value = localStorage.getItem("meav-api-key") || "";
  state.columns = ["A", "B"].map(buildColumn);
  $("columns").append(...state.columns.map((c) => c.section));
  setCompare();
  $("compare").addEventListener("change", setCompare);
  $("ask").addEventListener("submit", send);
  $("clear").addEventListener("click", clearChats);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) send(e);
  });
  document.body.dataset.ready = "1";
}

init().catch((e) => {
  $("columns").append(el("p", { className: "msg assistant", id: "init-error" }, `cannot load the server's setup: ${e.message}`));
});
