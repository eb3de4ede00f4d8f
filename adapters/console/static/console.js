// guidebot web console: ask, show the answering sentences (the lead) and the quoted passages with
// numbered sources, run commands, send 👍/👎, and (when the server offers it) hand a question to the
// program team and show their reply when it comes.
// Every string from an answer, a document, the program team or the member is inserted with
// textContent (via el()), never as HTML.
"use strict";

(() => {
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const feedbackTemplate = document.getElementById("tpl-feedback");
  const handoffTemplate = document.getElementById("tpl-handoff");
  const POLL_OPEN_MS = 20000;
  const POLL_ANSWERED_MS = 60000;
  const POLL_MAX_MS = 300000;
  let busy = false;

  /** Build an element; strings among children become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function safeLink(path) {
    return typeof path === "string" && path.startsWith("/") && !path.startsWith("//") ? path : null;
  }

  function safeUrl(url) {
    if (typeof url !== "string") return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  /** A paragraph with the best sentence emphasised, all as text nodes. */
  function quotedParagraph(text, best) {
    const p = el("p");
    const at = best ? text.indexOf(best) : -1;
    if (at < 0) {
      p.append(text);
      return p;
    }
    p.append(text.slice(0, at), el("mark", { className: "best", text: best }), text.slice(at + best.length));
    return p;
  }

  function sourceKey(item) {
    return `${item.document_id}\u0000${item.section}`;
  }

  function sourceLinks(label, link, url) {
    const href = safeLink(link);
    const parts = [href ? el("a", { href, text: label }) : el("span", { text: label })];
    const original = safeUrl(url);
    if (original) {
      parts.push(" ", el("a", { className: "original", href: original, rel: "noopener noreferrer", target: "_blank", text: "original ↗" }));
    }
    return parts;
  }

  function renderAnswer(data) {
    const body = el("div", { className: "reply-body" });
    if (!data.answered) {
      const tone = data.reason === "phi" ? "notice warning" : "notice";
      body.append(el("p", { className: tone, text: data.message || "The guide doesn't cover that." }));
      if (Array.isArray(data.suggestions) && data.suggestions.length) {
        const list = el("ul", { className: "suggestions" });
        for (const label of data.suggestions) {
          const section = String(label).split(" › ").pop();
          list.append(el("li", null, el("button", { type: "button", className: "chip", "data-ask": section, text: section })));
        }
        body.append(el("p", { className: "muted", text: "Nearest sections of the guide:" }), list);
      }
      if (data.reason === "out_of_scope" && data.answer_id) {
        body.append(feedbackControls(data.answer_id));
        if (data.handoff === true) body.append(handoffControls(data.answer_id));
      }
      return body;
    }
    const numbers = new Map();
    const sources = [];
    for (const passage of data.passages) {
      const key = sourceKey(passage);
      if (!numbers.has(key)) {
        numbers.set(key, numbers.size + 1);
        sources.push(passage);
      }
    }
    const lead = renderLead(data, numbers);
    if (lead) body.append(lead, el("h3", { className: "sources-title", text: "From the guide" }));
    for (const passage of data.passages) {
      const n = numbers.get(sourceKey(passage));
      const quote = el("blockquote", { cite: safeLink(passage.link) });
      for (const paragraph of String(passage.text).split(/\n{2,}/)) {
        if (paragraph.trim()) quote.append(quotedParagraph(paragraph, passage.best_sentence));
      }
      const caption = el("figcaption", null,
        el("span", { className: "ref", text: `[${n}]` }), " ",
        ...sourceLinks(passage.section || passage.source, passage.link, null));
      body.append(el("figure", { className: "passage" }, quote, caption));
    }
    const list = el("ol", { className: "sources" });
    for (const source of sources) {
      list.append(el("li", null, ...sourceLinks(source.source, source.link, source.url)));
    }
    body.append(el("h3", { className: "sources-title", text: "Sources" }), list);
    body.append(feedbackControls(data.answer_id, data.handoff === true));
    return body;
  }

  /** The lead: the guide's sentences that answer, each followed by the number of its passage. */
  function renderLead(data, numbers) {
    if (!Array.isArray(data.lead) || !data.lead.length) return null;
    const lead = el("p", { className: "lead" });
    for (const sentence of data.lead) {
      const passage = Number.isInteger(sentence.passage) ? data.passages[sentence.passage - 1] : undefined;
      if (!passage || typeof sentence.text !== "string") continue;
      const n = numbers.get(sourceKey(passage));
      const href = safeLink(passage.link);
      if (lead.childNodes.length) lead.append(" ");
      lead.append(sentence.text, " ", href ? el("a", { className: "ref", href, text: `[${n}]` }) : el("span", { className: "ref", text: `[${n}]` }));
    }
    return lead.childNodes.length ? lead : null;
  }

  function renderSummary(data) {
    const body = el("div", { className: "reply-body summary" });
    body.append(el("h2", { className: "summary-title", text: data.title || "Summary" }));
    if (data.intro) body.append(el("p", { text: data.intro }));
    if (Array.isArray(data.points) && data.points.length) {
      const list = el("ul", { className: "points" });
      for (const point of data.points) {
        const item = el("li");
        if (point.label) item.append(el("strong", { text: point.label }), " ");
        item.append(el("q", { text: point.text }));
        if (point.source) item.append(el("span", { className: "point-source" }, "— ", ...sourceLinks(point.section || point.source, point.link, point.url)));
        list.append(item);
      }
      body.append(list);
    }
    if (Array.isArray(data.suggestions) && data.suggestions.length) {
      const chips = el("div", { className: "try", role: "group", "aria-label": "Related" });
      for (const suggestion of data.suggestions) {
        chips.append(el("button", { type: "button", className: "chip", "data-ask": suggestion }, el("code", { text: suggestion })));
      }
      body.append(chips);
    }
    return body;
  }

  /** 👍/👎 for an answer; `offerTeam`: after a 👎, "Ask the program team" under them (once). */
  function feedbackControls(answerId, offerTeam) {
    const controls = feedbackTemplate.content.firstElementChild.cloneNode(true);
    const note = controls.querySelector(".feedback-status");
    for (const button of controls.querySelectorAll("button[data-value]")) {
      button.addEventListener("click", async () => {
        const value = button.dataset.value;
        note.textContent = "Sending…";
        try {
          const response = await fetch("/api/feedback", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            credentials: "same-origin",
            body: JSON.stringify({ answer_id: answerId, value }),
          });
          if (!response.ok) throw new Error(String(response.status));
          for (const other of controls.querySelectorAll("button[data-value]")) {
            other.setAttribute("aria-pressed", String(other === button));
          }
          note.textContent = value === "up" ? "Thanks, feedback received." : "Thanks, feedback received. We'll look at this answer.";
          if (offerTeam && value === "down" && !controls.nextElementSibling) {
            controls.after(handoffControls(answerId));
            offerTeam = false;
          }
        } catch (_) {
          note.textContent = "Couldn't send your feedback. Please try again.";
        }
      });
    }
    return controls;
  }

  /** "Ask the program team", with an optional name: the question and the name go to the team. */
  function handoffControls(answerId) {
    const box = handoffTemplate.content.firstElementChild.cloneNode(true);
    const note = box.querySelector(".handoff-note");
    const row = box.querySelector(".handoff-row");
    const name = box.querySelector("input[name=name]");
    const label = box.querySelector("label");
    const button = box.querySelector("button[data-handoff]");
    const said = box.querySelector(".handoff-status");
    const id = `handoff-${answerId}`;
    note.id = `${id}-note`;
    name.id = `${id}-name`;
    label.htmlFor = name.id;
    button.setAttribute("aria-describedby", note.id);
    async function send() {
      if (button.disabled) return;
      button.disabled = true;
      name.disabled = true;
      said.textContent = "Sending…";
      try {
        const response = await fetch("/api/handoff", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          credentials: "same-origin",
          body: JSON.stringify({ answer_id: answerId, name: name.value.trim() || undefined }),
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(data.message || "");
        row.hidden = true;
        note.hidden = true;
        said.textContent = data.message || "Sent to the program team. Their reply will come here.";
        said.tabIndex = -1;
        said.focus({ preventScroll: true });
        watchHandoff(answerId);
      } catch (error) {
        button.disabled = false;
        name.disabled = false;
        said.textContent = error.message || "Couldn't send your question to the program team. Please try again.";
      }
    }
    button.addEventListener("click", send);
    name.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    return box;
  }

  /** Poll for the program team's replies to one hand-off: every 20 s while it is open, less often once
   * answered (a follow-up may come), backing off on errors; not while the page is hidden. */
  const watched = new Set();
  function watchHandoff(answerId) {
    if (watched.has(answerId)) return;
    watched.add(answerId);
    let shown = 0;
    let delay = POLL_OPEN_MS;
    const later = (ms) => setTimeout(poll, ms);
    async function poll() {
      if (document.hidden) {
        document.addEventListener("visibilitychange", poll, { once: true });
        return;
      }
      try {
        const response = await fetch(`/api/handoff/${encodeURIComponent(answerId)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.status === 404) {
          watched.delete(answerId);
          return;
        }
        if (!response.ok) {
          const asked = Number(response.headers.get("Retry-After")) * 1000;
          delay = Math.min(Math.max(delay * 2, asked || 0), POLL_MAX_MS);
          later(delay);
          return;
        }
        const data = await response.json();
        const replies = Array.isArray(data.replies) ? data.replies : [];
        for (const reply of replies.slice(shown)) showTeamReply(reply);
        shown = Math.max(shown, replies.length);
        delay = data.state === "open" ? POLL_OPEN_MS : Math.min(Math.max(delay * 1.5, POLL_ANSWERED_MS), POLL_MAX_MS);
      } catch (_) {
        delay = Math.min(delay * 2, POLL_MAX_MS);
      }
      later(delay);
    }
    later(delay);
  }

  /** A program team reply as its own turn: who replied, what they said (as text), 👍/👎. */
  function showTeamReply(reply) {
    if (!reply || typeof reply.text !== "string") return;
    const body = el("div", { className: "reply-body team-reply" });
    const lead = Number(reply.number) > 1 ? "More from the program team:" : "From the program team:";
    body.append(el("p", { className: "team-from" }, el("strong", { text: lead }), " ", String(reply.who || "The program team")));
    for (const paragraph of reply.text.split(/\n{2,}/)) {
      if (paragraph.trim()) body.append(el("p", { className: "team-text", text: paragraph }));
    }
    if (typeof reply.answer_id === "string") body.append(feedbackControls(reply.answer_id, false));
    addTurn("team", body);
  }

  function addTurn(who, ...content) {
    const item = el("li", { className: who === "team" ? "turn bot team" : `turn ${who}` });
    if (who !== "member") item.append(el("span", { className: "avatar", "aria-hidden": "true", text: who === "team" ? "t" : "g" }));
    const spoken = { bot: "guidebot: ", team: "The program team: ", member: "You: " }[who];
    const bubble = el("div", { className: "bubble" }, el("span", { className: "visually-hidden", text: spoken }), ...content);
    item.append(bubble);
    log.append(item);
    return bubble;
  }

  async function ask(text) {
    const question = text.trim();
    if (!question || busy) return;
    busy = true;
    send.disabled = true;
    status.textContent = "Searching the guide…";
    addTurn("member", el("p", { text: question }));
    const bubble = addTurn("bot", el("p", { className: "muted", text: "Searching the guide…" }));
    bubble.setAttribute("aria-busy", "true");
    let reply;
    try {
      const response = await fetch("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ question }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        reply = el("p", { className: "notice error", text: data.message || `Something went wrong (${response.status}).` });
      } else {
        reply = "kind" in data ? renderSummary(data) : renderAnswer(data);
      }
    } catch (_) {
      reply = el("p", { className: "notice error", text: "Couldn't reach guidebot. Check your connection and try again." });
    }
    bubble.replaceChildren(el("span", { className: "visually-hidden", text: "guidebot: " }), reply);
    bubble.removeAttribute("aria-busy");
    status.textContent = "";
    busy = false;
    send.disabled = false;
    bubble.parentElement.scrollIntoView({ block: "start", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      status.textContent = "Type a question first.";
      input.focus();
      return;
    }
    input.value = "";
    ask(text).then(() => input.focus({ preventScroll: true }));
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // Example chips, nearest-section suggestions and related commands all ask their text.
  document.addEventListener("click", (event) => {
    const chip = event.target.closest("button[data-ask]");
    if (!chip) return;
    ask(chip.dataset.ask).then(() => input.focus({ preventScroll: true }));
  });
})();
