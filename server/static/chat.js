// migfix web chat: plain DOM, no framework, no innerHTML for anything the server or the
// user wrote (answers quote pasted text back).
"use strict";

const form = document.getElementById("ask");
const paste = document.getElementById("paste");
const conversation = document.getElementById("conversation");
const busy = document.getElementById("busy");
const send = document.getElementById("send");
let context = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// `code` spans in step text become <code>; everything else stays text.
function inline(text) {
  const span = el("span");
  text.split(/(`[^`]+`)/).forEach((part) => {
    span.append(part.startsWith("`") && part.endsWith("`") && part.length > 1
      ? el("code", {}, part.slice(1, -1)) : part);
  });
  return span;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-http deployments have no Clipboard API: fall back to a selected textarea.
  const area = el("textarea", { class: "offscreen", readonly: "" });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

function command(text, label) {
  const button = el("button", { type: "button", class: "copy", "aria-label": label }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await copyText(text);
      button.textContent = "Copied";
    } catch (err) {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  });
  return el("div", { class: "command" }, el("pre", {}, el("code", {}, text)), button);
}

function percent(x) { return `${Math.round(x * 100)}%`; }

function feedbackBar(answer, question) {
  const status = el("span", { class: "feedback-status", role: "status" });
  const bar = el("div", { class: "feedback" }, el("span", {}, "Did this fix it?"));
  const vote = async (helpful) => {
    bar.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    const response = await fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        helpful,
        playbook: answer.playbook ? answer.playbook.id : null,
        confidence: answer.playbook ? answer.playbook.confidence : null,
        question,
      }),
    });
    status.textContent = response.ok ? "Thanks, recorded." : "Could not record feedback.";
  };
  bar.append(
    el("button", { type: "button", class: "good", onclick: () => vote(true) }, "This fixed it"),
    el("button", { type: "button", class: "bad", onclick: () => vote(false) }, "It did not"),
    status,
  );
  return bar;
}

function renderSteps(steps) {
  const list = el("ol", { class: "steps" });
  for (const step of steps) {
    const item = el("li", { class: `step risk-${step.risk}`, value: String(step.n) },
      el("span", { class: "risk" }, step.risk), " ", inline(step.text));
    if (step.applies_when && step.applies_when.length) {
      item.append(el("p", { class: "applies" }, `Applies when: ${step.applies_when.join(", ")}`));
    }
    if (step.precondition && !step.text.includes(step.precondition)) {
      item.append(el("p", { class: "precondition" }, `Precondition: ${step.precondition}`));
    }
    if (step.command) item.append(command(step.command, `Copy the command of step ${step.n}`));
    list.append(item);
  }
  return list;
}

function renderAnswer(answer, question) {
  const card = el("article", { class: `answer status-${answer.status}` });
  if (answer.status === "matched" && answer.playbook) {
    const pb = answer.playbook;
    card.append(
      el("h2", {}, pb.title),
      el("p", { class: "match" }, "Playbook ",
        el("a", { href: `/playbooks/${encodeURIComponent(pb.id)}`, target: "_blank" }, pb.id),
        " · confidence ", el("strong", { class: "confidence" }, percent(pb.confidence))),
    );
    if (answer.summary) card.append(el("p", { class: "diagnosis" }, inline(answer.summary)));
    if (answer.cause) card.append(el("p", { class: "cause" }, el("strong", {}, "Why: "), inline(answer.cause)));
  } else {
    card.append(el("h2", {}, "No confident match"),
      el("p", { class: "diagnosis" }, answer.message || "migfix does not recognise this problem."));
    if (answer.alternatives && answer.alternatives.length) {
      const near = el("ul", { class: "alternatives" });
      answer.alternatives.forEach((a) => near.append(el("li", {},
        el("a", { href: `/playbooks/${encodeURIComponent(a.id)}`, target: "_blank" }, a.title),
        ` (${percent(a.confidence)})`)));
      card.append(el("p", {}, "Nearest playbooks:"), near);
    }
  }
  if (answer.findings && answer.findings.length) {
    const list = el("ul", { class: "findings" });
    answer.findings.forEach((f) => list.append(el("li", {}, el("code", {}, f.code), " ", f.message)));
    card.append(el("h3", {}, "Findings"), list);
  }
  if (answer.steps && answer.steps.length) card.append(el("h3", {}, "Fix"), renderSteps(answer.steps));
  if (answer.verify && answer.verify.length) {
    card.append(el("h3", {}, "Verify"), command(answer.verify.join("\n"), "Copy the verify commands"));
  }
  card.append(feedbackBar(answer, question));
  return card;
}

function addTurn(question, node) {
  const turn = el("li", { class: "turn" }, el("pre", { class: "question" }, question), node);
  conversation.append(turn);
  turn.scrollIntoView({ block: "start" });
}

async function ask(event) {
  event.preventDefault();
  const text = paste.value;
  if (!text.trim()) { paste.focus(); return; }
  send.disabled = true;
  busy.hidden = false;
  try {
    const response = await fetch("/api/explain", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, context }),
    });
    const data = await response.json();
    if (response.ok) {
      addTurn(text, renderAnswer(data, text));
      context.push(text);
      paste.value = "";
    } else {
      addTurn(text, el("p", { class: "error", role: "alert" }, data.error || `Error ${response.status}`));
    }
  } catch (err) {
    addTurn(text, el("p", { class: "error", role: "alert" }, "The server did not answer."));
  } finally {
    send.disabled = false;
    busy.hidden = true;
    paste.focus();
  }
}

form.addEventListener("submit", ask);
paste.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});
document.getElementById("reset").addEventListener("click", () => {
  context = [];
  conversation.replaceChildren();
  paste.value = "";
  paste.focus();
});
