// The phone simulator: chat as a citizen with the government numbers of the emulator.
// Plain browser JavaScript, no libraries; talks only to this emulator's /simulator API.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    numbers: [],
    waId: "",
    name: "",
    numberId: "",
    entries: new Map(), // wamid -> entry
    reactions: new Map(), // target wamid -> emoji
    lastSeq: 0,
    stickToBottom: true,
    source: null,
    attachment: null, // {media_id, type, filename}
    typingTimer: null,
    config: null,
  };

  // helpers -------------------------------------------------------------------------
  function digits(value) {
    return String(value || "").replace(/\D/g, "");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }

  // WhatsApp formatting: *bold*, _italic_, ~strike~, ```mono```, line breaks, links.
  function formatInline(text) {
    let html = escapeHtml(text);
    html = html.replace(/```([\s\S]+?)```/g, "<code>$1</code>");
    html = html.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?=[^\w*]|$)/g, "$1<strong>$2</strong>");
    html = html.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?=[^\w_]|$)/g, "$1<em>$2</em>");
    html = html.replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?=[^\w~]|$)/g, "$1<s>$2</s>");
    html = html.replace(/\n/g, "<br>");
    const span = document.createElement("span");
    span.innerHTML = html;
    return span;
  }

  function formatText(text) {
    const fragment = document.createDocumentFragment();
    const parts = String(text || "").split(/(https?:\/\/[^\s<]+[^\s<.,:;"')\]!?])/g);
    parts.forEach((part, index) => {
      if (index % 2 === 1) {
        fragment.append(el("a", { href: part, target: "_blank", rel: "noopener noreferrer" }, part));
      } else if (part) {
        fragment.append(formatInline(part));
      }
    });
    return fragment;
  }

  function timeOf(seconds) {
    const date = new Date(Number(seconds) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function mediaUrl(id, download) {
    return "/simulator/media/" + encodeURIComponent(id) + (download ? "?download=1" : "");
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      const reason = body && (body.error || (body.errors && body.errors.join("; ")));
      throw new Error(typeof reason === "string" ? reason : "HTTP " + response.status);
    }
    return body;
  }

  function postJson(path, data) {
    return api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
  }

  // sending as the citizen ------------------------------------------------------------
  async function send(fields) {
    showError("");
    try {
      await postJson("/simulator/send", {
        from: state.waId,
        name: state.name || undefined,
        to: state.numberId,
        ...fields,
      });
      await refresh();
    } catch (error) {
      showError("Could not send: " + error.message);
    }
  }

  async function submitComposer(event) {
    event.preventDefault();
    const box = $("text");
    const text = box.value;
    if (state.attachment) {
      const attachment = state.attachment;
      clearAttachment();
      box.value = "";
      const fields = { type: attachment.type, media_id: attachment.media_id };
      if (text.trim() && ["image", "video", "document"].includes(attachment.type)) {
        fields.caption = text;
      }
      if (attachment.type === "document") fields.filename = attachment.filename;
      await send(fields);
    } else if (text.trim()) {
      box.value = "";
      autosize();
      await send({ type: "text", text: text });
    }
    box.focus();
  }

  async function chooseFile() {
    const input = $("file");
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    if (file.type) form.append("type", file.type);
    showError("");
    try {
      const media = await api("/simulator/upload", { method: "POST", body: form });
      state.attachment = { media_id: media.media_id, type: media.type, filename: file.name };
      $("attachment-name").textContent =
        "Attached: " + file.name + " (" + media.type + ") · add a caption and press Send";
      $("attachment").hidden = false;
      $("text").focus();
    } catch (error) {
      showError("Upload failed: " + error.message);
    }
  }

  function clearAttachment() {
    state.attachment = null;
    $("attachment").hidden = true;
  }

  function openLocation() {
    const dialog = $("location-dialog");
    dialog.returnValue = "";
    dialog.showModal();
    $("loc-lat").focus();
  }

  async function closeLocation() {
    const dialog = $("location-dialog");
    if (dialog.returnValue !== "send") return;
    const latitude = parseFloat($("loc-lat").value);
    const longitude = parseFloat($("loc-long").value);
    if (Number.isNaN(latitude) || Number.isNaN(longitude)) {
      showError("Latitude and longitude must be numbers.");
      return;
    }
    await send({
      type: "location",
      latitude: latitude,
      longitude: longitude,
      name: $("loc-name").value || undefined,
      address: $("loc-address").value || undefined,
    });
    $("text").focus();
  }

  function reply(kind, entry, id, title, description) {
    const fields = { type: kind, reply_id: id, reply_title: title, context_id: entry.id };
    if (description) fields.reply_description = description;
    return send(fields);
  }

  function openList(entry) {
    const interactive = entry.payload.interactive;
    const dialog = $("list-dialog");
    $("list-title").textContent = interactive.action.button;
    const holder = $("list-sections");
    holder.replaceChildren();
    for (const section of interactive.action.sections) {
      if (section.title) holder.append(el("h3", { text: section.title }));
      const list = el("div", { role: "group", "aria-label": section.title || "Options" });
      for (const row of section.rows) {
        list.append(
          el(
            "button",
            {
              type: "button",
              className: "row-button",
              onclick: () => {
                dialog.close();
                reply("list_reply", entry, row.id, row.title, row.description);
              },
            },
            el("span", { className: "row-title", text: row.title }),
            row.description ? el("span", { className: "row-description", text: row.description }) : null
          )
        );
      }
      holder.append(list);
    }
    dialog.showModal();
    const first = holder.querySelector("button");
    if (first) first.focus();
  }

  // rendering ------------------------------------------------------------------------
  function extensionOf(name) {
    const match = /\.([A-Za-z0-9]{1,5})$/.exec(name || "");
    return match ? match[1].toUpperCase() : "DOC";
  }

  function keepAtBottom() {
    if (state.stickToBottom) $("messages").scrollTop = $("messages").scrollHeight;
  }

  function mediaBlock(kind, entry, media) {
    const localId = entry.media_id || (entry.direction === "in" ? media.id : null);
    const caption = media.caption;
    const parts = [];
    if (!localId) {
      if (media.link) {
        parts.push(el("p", { className: "hint" }, "Fetching " + kind + " from ",
          el("a", { href: media.link, target: "_blank", rel: "noopener noreferrer" }, media.link)));
      }
    } else if (kind === "image" || kind === "sticker") {
      parts.push(el("img", {
        src: mediaUrl(localId), alt: caption || (kind === "sticker" ? "Sticker" : "Photo"), onload: keepAtBottom,
      }));
    } else if (kind === "video") {
      parts.push(el("video", { src: mediaUrl(localId), controls: true, "aria-label": caption || "Video" }));
    } else if (kind === "audio") {
      parts.push(el("audio", { src: mediaUrl(localId), controls: true, "aria-label": "Voice or audio message" }));
    } else {
      const name = media.filename || "document";
      parts.push(
        el("a", { className: "doc", href: mediaUrl(localId, true), download: name },
          el("span", { className: "doc-icon", "aria-hidden": "true" }, extensionOf(name)),
          el("span", {}, name, el("span", { className: "visually-hidden" }, " (download)")))
      );
    }
    if (caption) parts.push(el("div", {}, formatText(caption)));
    return parts;
  }

  function interactiveBlock(entry) {
    const interactive = entry.payload.interactive;
    const parts = [];
    const header = interactive.header;
    if (header) {
      if (header.type === "text") parts.push(el("div", { className: "header" }, formatText(header.text)));
      else parts.push(...mediaBlock(header.type, entry, header[header.type] || {}));
    }
    if (interactive.body) parts.push(el("div", {}, formatText(interactive.body.text)));
    if (interactive.footer) parts.push(el("div", { className: "footer", text: interactive.footer.text }));
    const actions = el("div", { className: "actions" });
    const action = interactive.action || {};
    if (interactive.type === "button") {
      for (const button of action.buttons) {
        actions.append(el("button", {
          type: "button",
          onclick: () => reply("button_reply", entry, button.reply.id, button.reply.title),
        }, button.reply.title));
      }
    } else if (interactive.type === "list") {
      actions.append(el("button", {
        type: "button", "aria-haspopup": "dialog", onclick: () => openList(entry),
      }, "☰ " + action.button));
    } else if (interactive.type === "cta_url") {
      actions.append(el("a", {
        href: action.parameters.url, target: "_blank", rel: "noopener noreferrer",
      }, "↗ " + action.parameters.display_text));
    } else if (interactive.type === "location_request_message") {
      actions.append(el("button", { type: "button", onclick: openLocation }, "Send location"));
    } else {
      actions.append(el("button", { type: "button", disabled: true }, (action.parameters || {}).flow_cta || "Flow (not emulated)"));
    }
    return [el("div", { className: "bubble" }, ...parts), actions];
  }

  function templateBlock(entry) {
    const rendered = entry.rendered || {};
    const parts = [el("div", { className: "template-tag", text: "Template · " + rendered.name + " (" + rendered.language + ")" })];
    const actions = el("div", { className: "actions" });
    if (typeof rendered.header === "string") parts.push(el("div", { className: "header" }, formatText(rendered.header)));
    if (typeof rendered.body === "string") {
      parts.push(el("div", {}, formatText(rendered.body)));
    } else if (rendered.parameters) {
      parts.push(el("div", {}, "Parameters: " + (rendered.parameters.join(" · ") || "none")));
    }
    if (typeof rendered.footer === "string") parts.push(el("div", { className: "footer", text: rendered.footer }));
    for (const button of rendered.buttons || []) {
      if (button.type === "QUICK_REPLY") {
        actions.append(el("button", {
          type: "button", onclick: () => reply("button", entry, button.payload, button.text),
        }, button.text));
      } else if (button.type === "URL") {
        actions.append(el("a", { href: button.url, target: "_blank", rel: "noopener noreferrer" }, "↗ " + button.text));
      } else {
        actions.append(el("button", { type: "button", disabled: true }, button.text));
      }
    }
    return [el("div", { className: "bubble" }, ...parts), actions.childElementCount ? actions : null];
  }

  function describeReply(message) {
    if (message.type === "interactive") {
      const reply = message.interactive[message.interactive.type] || {};
      return [el("div", {}, reply.title || ""), reply.description ? el("div", { className: "footer", text: reply.description }) : null];
    }
    if (message.type === "button") return [el("div", {}, message.button.text)];
    return [];
  }

  function locationBlock(location) {
    return el("div", { className: "location-card" },
      el("strong", {}, location.name || "Location"),
      location.address ? el("span", { text: location.address }) : null,
      el("span", { className: "hint", text: location.latitude + ", " + location.longitude }));
  }

  function quoteFor(entry) {
    const context = (entry.payload || {}).context;
    const id = context && (context.id || context.message_id);
    if (!id) return null;
    const quoted = state.entries.get(id);
    let text = "a message";
    if (quoted) text = summary(quoted);
    return el("div", { className: "quote" }, "↩ " + text);
  }

  function summary(entry) {
    const p = entry.payload;
    if (entry.type === "text") return p.text.body.slice(0, 80);
    if (entry.type === "interactive" && p.interactive.body) return p.interactive.body.text.slice(0, 80);
    if (entry.type === "template" && entry.rendered) return (entry.rendered.body || entry.rendered.name).slice(0, 80);
    return entry.type;
  }

  function contentOf(entry) {
    const p = entry.payload;
    switch (entry.type) {
      case "text":
        return [el("div", { className: "bubble" }, quoteFor(entry), formatText(p.text.body))];
      case "interactive":
        if (entry.direction === "in") return [el("div", { className: "bubble" }, quoteFor(entry), ...describeReply(p))];
        return interactiveBlock(entry);
      case "button":
        return [el("div", { className: "bubble" }, quoteFor(entry), ...describeReply(p))];
      case "template":
        return templateBlock(entry);
      case "image":
      case "video":
      case "audio":
      case "document":
      case "sticker":
        return [el("div", { className: "bubble" }, quoteFor(entry), ...mediaBlock(entry.type, entry, p[entry.type]))];
      case "location":
        return [el("div", { className: "bubble" }, locationBlock(p.location))];
      case "contacts":
        return [el("div", { className: "bubble" }, "Contact: " + p.contacts.map((c) => (c.name || {}).formatted_name || "contact").join(", "))];
      case "unsupported":
        return [el("div", { className: "bubble" }, el("em", {}, "Unsupported message"))];
      default:
        return [el("div", { className: "bubble" }, el("em", {}, entry.type))];
    }
  }

  function statusMark(entry) {
    if (entry.status === "failed") {
      const error = (entry.errors || [])[0] || {};
      return el("span", { className: "error-text" }, "⚠ failed " + (error.code || "") + " " + (error.title || ""));
    }
    if (entry.direction === "in") {
      // the citizen's own message: ✓ sent, ✓✓ delivered to the webhook, blue ✓✓ read by the bot
      const ticks = entry.status === "sent" ? "✓" : "✓✓";
      return el("span", { className: "ticks" + (entry.status === "read" ? " read" : ""), "aria-label": entry.status, title: entry.status }, ticks);
    }
    return el("span", { className: "status-label", title: "status webhook sent to the connector" }, entry.status);
  }

  function render(entry) {
    if (entry.type === "reaction") {
      state.reactions.set(entry.payload.reaction.message_id, entry.payload.reaction.emoji);
      const target = state.entries.get(entry.payload.reaction.message_id);
      if (target) render(target);
      return;
    }
    const id = "m-" + entry.seq;
    const item = el("li", {
      id: id,
      className: "msg " + entry.direction + (entry.status === "failed" ? " failed" : ""),
      "data-id": entry.id,
      "aria-label": (entry.direction === "in" ? "You" : "Bot") + ", " + timeOf(entry.timestamp),
    });
    item.append(...contentOf(entry).filter(Boolean));
    const emoji = state.reactions.get(entry.id);
    if (emoji) item.append(el("span", { className: "reaction", "aria-label": "reaction " + emoji }, emoji));
    item.append(el("div", { className: "meta" }, timeOf(entry.timestamp), statusMark(entry)));
    const list = $("messages");
    const existing = document.getElementById(id);
    if (existing) {
      existing.replaceWith(item);
      return;
    }
    const nearBottom = state.stickToBottom;
    // keep sequence order even when events arrive out of order
    let before = null;
    for (const child of list.children) {
      if (Number(child.id.slice(2)) > entry.seq) {
        before = child;
        break;
      }
    }
    list.insertBefore(item, before);
    if (nearBottom || entry.direction === "in") list.scrollTop = list.scrollHeight;
  }

  function upsert(entry) {
    if (entry.wa_id !== state.waId || entry.phone_number_id !== state.numberId) return;
    state.entries.set(entry.id, entry);
    state.lastSeq = Math.max(state.lastSeq, entry.seq);
    if (entry.direction === "out") setTyping(false);
    render(entry);
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    const number = state.numbers.find((n) => n.id === state.numberId);
    $("chat-subtitle").textContent = on ? "typing…" : number ? number.display : "";
    if (on) state.typingTimer = setTimeout(() => setTyping(false), 25000);
  }

  // loading and live updates ----------------------------------------------------------
  async function refresh() {
    const query = new URLSearchParams({ wa_id: state.waId, phone_number_id: state.numberId, after: "0" });
    const answer = await api("/simulator/conversation?" + query);
    for (const entry of answer.messages) {
      const known = state.entries.get(entry.id);
      if (!known || known.status !== entry.status || known.media_id !== entry.media_id) upsert(entry);
    }
  }

  // A message from another of the government's numbers (a department's notice or an
  // officer's reply) marks that number in the picker until it is opened.
  function markUnread(numberId, unread) {
    const number = state.numbers.find((n) => n.id === numberId);
    const option = Array.from($("business").options).find((o) => o.value === numberId);
    if (number && option) option.textContent = (unread ? "● " : "") + number.label + " (" + number.display + ")";
  }

  function connect() {
    if (state.source) state.source.close();
    // every number's events for this citizen: the open chat's are shown, others marked
    const query = new URLSearchParams({ wa_id: state.waId });
    const source = new EventSource("/simulator/events?" + query);
    state.source = source;
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      const about = event.entry || event;
      if (about.phone_number_id && about.phone_number_id !== state.numberId) {
        if (event.event === "message" && about.direction === "out") markUnread(about.phone_number_id, true);
        return;
      }
      if (event.event === "message") upsert(event.entry);
      else if (event.event === "status" || event.event === "media") {
        const entry = state.entries.get(event.id);
        if (!entry) return;
        if (event.event === "status") {
          entry.status = event.status;
          if (event.errors) entry.errors = event.errors;
        } else {
          entry.media_id = event.media_id;
        }
        render(entry);
      } else if (event.event === "typing") setTyping(true);
      else if (event.event === "reset") switchConversation();
      else if (event.event === "config") fillConfig(event.config);
    };
    source.onopen = () => refresh().catch(() => {});
  }

  function switchConversation() {
    state.waId = digits($("citizen").value);
    state.name = $("citizen-name").value.trim();
    state.numberId = $("business").value;
    markUnread(state.numberId, false);
    state.entries.clear();
    state.reactions.clear();
    state.lastSeq = 0;
    state.stickToBottom = true;
    $("messages").replaceChildren();
    const number = state.numbers.find((n) => n.id === state.numberId);
    if (number) {
      $("chat-title").textContent = number.label;
      $("avatar").textContent = number.label.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
    }
    setTyping(false);
    try {
      localStorage.setItem("wa-emulator", JSON.stringify({ citizen: $("citizen").value, name: state.name, number: state.numberId }));
    } catch (error) {
      // storage unavailable: nothing to remember
    }
    connect();
    refresh().catch((error) => showError(error.message));
  }

  // controls -------------------------------------------------------------------------
  function fillConfig(config) {
    state.config = config;
    const form = $("config-form");
    for (const input of form.querySelectorAll("input[name]")) {
      if (input.type === "checkbox") input.checked = Boolean(config[input.name]);
      else input.value = config[input.name];
    }
    $("webhook-url").textContent = config.webhook_url;
  }

  async function applyConfig(event, extra) {
    if (event) event.preventDefault();
    const form = $("config-form");
    const changes = {};
    for (const input of form.querySelectorAll("input[name]")) {
      if (input.type === "checkbox") changes[input.name] = input.checked;
      else if (input.value !== "") {
        const number = Number(input.value);
        changes[input.name] = input.step === "1" ? Math.round(number) : number;
      }
    }
    Object.assign(changes, extra || {});
    try {
      fillConfig(await postJson("/emulator/config", changes));
      $("control-result").textContent = "Settings applied.";
    } catch (error) {
      $("control-result").textContent = "Not applied: " + error.message;
    }
  }

  async function verify() {
    $("control-result").textContent = "Verifying…";
    try {
      const result = await postJson("/emulator/verify-webhook", {});
      $("control-result").textContent = result.ok
        ? "Webhook verified: the challenge came back (HTTP " + result.status + ")."
        : "Verification failed: " + (result.error || "HTTP " + result.status + " " + (result.body || ""));
    } catch (error) {
      $("control-result").textContent = "Verification failed: " + error.message;
    }
  }

  async function resetEmulator() {
    await postJson("/emulator/reset", {});
    $("control-result").textContent = "Emulator reset.";
    fillConfig(await api("/emulator/config"));
  }

  async function showStats() {
    if (!$("stats-box").open) return;
    try {
      $("stats").textContent = JSON.stringify(await api("/emulator/stats"), null, 2);
    } catch (error) {
      $("stats").textContent = error.message;
    }
  }

  function autosize() {
    const box = $("text");
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight, 128) + "px";
  }

  // start ----------------------------------------------------------------------------
  async function start() {
    const info = await api("/simulator/info");
    state.numbers = info.phone_numbers;
    const select = $("business");
    for (const number of info.phone_numbers) {
      select.append(el("option", { value: number.id }, number.label + " (" + number.display + ")"));
    }
    try {
      const saved = JSON.parse(localStorage.getItem("wa-emulator") || "null");
      if (saved) {
        if (saved.citizen) $("citizen").value = saved.citizen;
        if (saved.name) $("citizen-name").value = saved.name;
        if (state.numbers.some((n) => n.id === saved.number)) select.value = saved.number;
      }
    } catch (error) {
      // ignore unreadable storage
    }
    fillConfig(await api("/emulator/config"));
    $("identity").addEventListener("change", switchConversation);
    $("identity").addEventListener("submit", (event) => {
      event.preventDefault();
      switchConversation();
    });
    $("composer").addEventListener("submit", submitComposer);
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("text").addEventListener("input", autosize);
    $("messages").addEventListener("scroll", () => {
      const list = $("messages");
      state.stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    });
    $("attach-button").addEventListener("click", () => $("file").click());
    $("file").addEventListener("change", chooseFile);
    $("attachment-remove").addEventListener("click", clearAttachment);
    $("location-button").addEventListener("click", openLocation);
    $("location-dialog").addEventListener("close", closeLocation);
    $("config-form").addEventListener("submit", applyConfig);
    $("skip-day").addEventListener("click", () =>
      applyConfig(null, { clock_offset_seconds: (state.config ? state.config.clock_offset_seconds : 0) + 25 * 3600 }));
    $("verify").addEventListener("click", verify);
    $("reset").addEventListener("click", resetEmulator);
    $("stats-box").addEventListener("toggle", showStats);
    setInterval(showStats, 2000);
    switchConversation();
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => showError("The emulator is not reachable: " + error.message));
  });
})();
