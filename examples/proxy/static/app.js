// The proxy's page: log in, ask, watch the answer stream (SSE or WebSocket), stop it.
// Everything from the server is shown with textContent (never parsed as HTML).
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null; // the open WebSocket, if any
let current = null; // the turn being answered: {mode, turnId, events, answer, sources, usage}

async function api(path, body) {
  const init = { credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = {};
  try {
    data = await response.json();
  } catch (_) {
    data = {};
  }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function setConversation(id) {
  $("conversation").dataset.conversationId = id || "";
  $("conversation").textContent = id ? `Conversation ${id}` : "A new conversation starts with the next question.";
}

function showLogin() {
  $("chat-panel").hidden = true;
  $("login-panel").hidden = false;
  $("username").focus();
}

function showChat(me) {
  $("whoami").textContent = me.username;
  setConversation(me.conversation_id);
  $("login-panel").hidden = true;
  $("chat-panel").hidden = false;
  setStatus("idle", "");
}

function addTurn(question, mode) {
  const box = document.createElement("div");
  box.className = "turn";
  box.dataset.mode = mode;
  const q = document.createElement("p");
  q.className = "question";
  q.textContent = question;
  const answer = document.createElement("p");
  answer.className = "answer";
  const sources = document.createElement("ol");
  sources.className = "sources";
  const usage = document.createElement("p");
  usage.className = "usage";
  box.append(q, answer, sources, usage);
  $("transcript").append(box);
  return { mode, turnId: null, events: null, box, answer, sources, usage };
}

function showSources(turn, sources) {
  for (const source of sources || []) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.className = "document";
    name.textContent = source.document || "(untitled)";
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = typeof source.score === "number" ? `score ${source.score.toFixed(3)}` : "";
    const snippet = document.createElement("div");
    snippet.className = "snippet";
    snippet.textContent = source.snippet || "";
    item.append(name, score, snippet);
    turn.sources.append(item);
  }
}

function finish(state, text) {
  if (current && current.events) current.events.close();
  current = null;
  $("stop").disabled = true;
  $("send").disabled = false;
  setStatus(state, text);
}

function handle(event) {
  const turn = current;
  if (!turn) return;
  switch (event.type) {
    case "start":
      turn.box.dataset.turnId = event.turn_id;
      setStatus("streaming", "Answering\u2026");
      $("stop").disabled = false;
      break;
    case "delta":
      turn.answer.textContent += event.text;
      break;
    case "end": {
      showSources(turn, event.sources);
      const usage = event.usage || {};
      const parts = [];
      if (usage.total_tokens) parts.push(`${usage.total_tokens} tokens`);
      if (usage.total_price) parts.push(`${usage.total_price} ${usage.currency || ""}`.trim());
      turn.usage.textContent = parts.join(" \u00b7 ");
      setConversation(event.conversation_id);
      turn.box.dataset.state = "done";
      finish("done", "Done.");
      break;
    }
    case "stopped":
      turn.box.dataset.state = "stopped";
      finish("stopped", "Stopped.");
      break;
    case "error":
      turn.box.dataset.state = "error";
      finish("error", event.message || "Something went wrong.");
      break;
    default:
      break;
  }
}

async function askOverSse(question) {
  const { turn_id: turnId } = await api("/api/chat", { message: question });
  current.turnId = turnId;
  const events = new EventSource(`/api/chat/${encodeURIComponent(turnId)}/events`);
  current.events = events;
  events.onmessage = (message) => handle(JSON.parse(message.data));
  events.onerror = () => {
    if (current && current.events === events) finish("error", "The connection was lost.");
  };
}

function openSocket() {
  if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/ws`);
    ws.onopen = () => {
      socket = ws;
      resolve(ws);
    };
    ws.onmessage = (message) => handle(JSON.parse(message.data));
    ws.onerror = () => reject(new Error("The WebSocket could not connect."));
    ws.onclose = () => {
      if (socket === ws) socket = null;
      if (current && current.mode === "ws") finish("error", "The connection was lost.");
    };
  });
}

async function askOverSocket(question) {
  const ws = await openSocket();
  ws.send(JSON.stringify({ type: "ask", message: question }));
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const me = await api("/api/login", { username: $("username").value, password: $("password").value });
    $("password").value = "";
    showChat(me);
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || current) return;
  const mode = document.querySelector('input[name="transport"]:checked').value;
  $("question").value = "";
  $("send").disabled = true;
  current = addTurn(question, mode);
  setStatus("waiting", "Sending\u2026");
  try {
    await (mode === "ws" ? askOverSocket(question) : askOverSse(question));
  } catch (error) {
    finish("error", error.message);
  }
});

$("stop").addEventListener("click", async () => {
  if (!current) return;
  $("stop").disabled = true;
  setStatus("stopping", "Stopping\u2026");
  try {
    if (current.mode === "ws") socket.send(JSON.stringify({ type: "stop" }));
    else await api(`/api/chat/${encodeURIComponent(current.turnId)}/stop`, {});
  } catch (error) {
    finish("error", error.message);
  }
});

$("new-conversation").addEventListener("click", async () => {
  try {
    const data = await api("/api/conversation/new", {});
    setConversation(data.conversation_id);
  } catch (error) {
    setStatus("error", error.message);
  }
});

$("logout").addEventListener("click", async () => {
  if (socket) socket.close();
  await api("/api/logout", {}).catch(() => null);
  $("transcript").replaceChildren();
  showLogin();
});

api("/api/me").then(showChat, showLogin);
