// Agent Simulator: history, streamed turns (tokens), reasoning, tool calls and returns, approvals, stop.
import {h, clear, errorArea, errorText, fmtNum, toast} from './dom.js';
import {get, post, stream, qs} from './api.js';

const HISTORY = 50;

function pretty(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

export async function render(root, ctx) {
  const log = h('div', {class: 'log', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite', tabindex: 0});
  const earlier = h('button', {type: 'button', class: 'ghost small', hidden: true, onclick: () => loadEarlier()}, 'Load earlier messages');
  const input = h('textarea', {rows: 3, placeholder: 'Message the agent (Enter sends, Shift+Enter for a new line)',
    'aria-label': 'Message', name: 'message'});
  const role = h('select', {'aria-label': 'Send as', name: 'role'}, h('option', {value: 'user'}, 'as user'),
    h('option', {value: 'system'}, 'as system'));
  const send = h('button', {type: 'submit', class: 'primary', disabled: true}, 'Send');  // enabled once history shows
  const stopBtn = h('button', {type: 'button', class: 'danger', hidden: true, onclick: () => stop()}, 'Stop');
  const status = h('span', {class: 'muted small', 'aria-live': 'polite'});
  const errors = errorArea();
  const form = h('form', {class: 'composer'}, input, h('div', {class: 'row-inline'}, role, send, stopBtn, status));
  clear(root, h('div', {class: 'sim-head'}, h('h2', null, 'Agent simulator')), earlier, log, errors, form);

  const parts = new Map();   // stream part key -> {el, text, ...}
  const calls = new Map();   // tool_call_id -> card element
  let first = null;          // id of the oldest message shown
  let controller = null;
  let running = false;

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(kind, label, body) {
    return h('div', {class: `msg ${kind}`}, h('div', {class: 'who'}, label), body);
  }

  function callCard(m) {
    const call = m.tool_call || m.tool_calls?.[0] || {};
    const args = h('pre', {class: 'code'}, pretty(call.arguments || ''));
    const result = h('div', {class: 'result'}, h('span', {class: 'muted small'}, 'waiting for the result…'));
    const card = h('details', {class: 'msg tool', dataset: {callId: call.tool_call_id || ''}},
      h('summary', null, h('span', {class: 'who'}, 'Tool call'), ' ', h('code', null, call.name || '?')),
      h('div', {class: 'small muted'}, 'Arguments'), args, result);
    card.args = args; card.result = result; card.raw = call.arguments || '';
    if (call.tool_call_id) calls.set(call.tool_call_id, card);
    return card;
  }

  function returnInto(m) {
    const card = calls.get(m.tool_call_id);
    const body = [h('div', {class: `small ${m.status === 'error' ? 'bad' : 'good'}`}, `Result (${m.status || 'done'})`),
      h('pre', {class: 'code'}, pretty(m.tool_return ?? '')),
      m.stdout?.length ? h('details', null, h('summary', null, 'stdout'), h('pre', {class: 'code'}, m.stdout.join(''))) : null,
      m.stderr?.length ? h('details', null, h('summary', null, 'stderr'), h('pre', {class: 'code'}, m.stderr.join(''))) : null];
    if (card) { clear(card.result, body); return null; }
    return bubble('tool-return', 'Tool return', h('div', null, body));
  }

  function approvalCard(m) {
    const call = m.tool_call || {};
    const reason = h('input', {type: 'text', placeholder: 'Reason (optional)', 'aria-label': 'Reason for the decision'});
    const decide = (approve) => {
      card.querySelectorAll('button, input').forEach((el) => { el.disabled = true; });
      card.dataset.decision = approve ? 'approved' : 'denied';
      return turn([{type: 'approval', approve, approval_request_id: m.id, reason: reason.value || undefined}],
        `${approve ? 'Approved' : 'Denied'} ${call.name}${reason.value ? `: ${reason.value}` : ''}`);
    };
    const card = h('div', {class: 'msg approval', role: 'group', 'aria-label': `Approval for ${call.name}`},
      h('div', {class: 'who'}, 'Approval required'),
      h('div', null, 'The agent wants to call ', h('code', null, call.name), ' with'),
      h('pre', {class: 'code'}, pretty(call.arguments || '')),
      h('div', {class: 'row-inline'}, reason,
        h('button', {type: 'button', class: 'primary', onclick: () => decide(true)}, 'Approve'),
        h('button', {type: 'button', class: 'danger', onclick: () => decide(false)}, 'Deny')));
    return card;
  }

  // A complete (history) message or a stream chunk; chunks of one part share a key and accumulate.
  function show(m, {prepend = false, chunk = false} = {}) {
    const type = m.message_type;
    const key = `${m.otid || m.id}:${type}`;
    const known = chunk ? parts.get(key) : null;
    let el = null;
    switch (type) {
      case 'user_message':
      case 'assistant_message':
      case 'system_message': {
        const text = typeof m.content === 'string' ? m.content : (m.content || []).map((c) => c.text || '').join('');
        if (known) { known.text += text; known.body.textContent = known.text; return; }
        const body = h('div', {class: 'text'}, text);
        const label = {user_message: 'User', assistant_message: 'Agent', system_message: 'System'}[type];
        el = type === 'system_message' && text.length > 240 && !chunk ?
          h('details', {class: 'msg system'}, h('summary', {class: 'who'}, `System (${text.length.toLocaleString()} chars)`), body) :
          bubble(type.replace('_message', ''), label, body);
        if (chunk) parts.set(key, {text, body});
        break;
      }
      case 'reasoning_message':
      case 'hidden_reasoning_message': {
        const text = m.reasoning || m.hidden_reasoning || (type === 'hidden_reasoning_message' ? '(hidden reasoning)' : '');
        if (known) { known.text += text; known.body.textContent = known.text; return; }
        const body = h('div', {class: 'text'}, text);
        el = h('details', {class: 'msg reasoning', open: true}, h('summary', {class: 'who'}, 'Reasoning'), body);
        if (chunk) parts.set(key, {text, body});
        break;
      }
      case 'tool_call_message': {
        if (known) {
          known.card.raw += m.tool_call?.arguments || '';
          known.card.args.textContent = pretty(known.card.raw);
          return;
        }
        el = callCard(m);
        if (chunk) parts.set(key, {card: el});
        break;
      }
      case 'tool_return_message': el = returnInto(m); break;
      case 'approval_request_message': el = approvalCard(m); break;
      case 'approval_response_message':
        el = bubble('system', 'Approval', `${m.approve ? 'Approved' : 'Denied'}${m.reason ? `: ${m.reason}` : ''}`); break;
      case 'error_message':
        el = h('div', {class: 'msg error', role: 'alert'}, h('div', {class: 'who'}, 'Error'), m.detail || m.message || 'error'); break;
      default:
        return;
    }
    if (!el) return;
    el.dataset.type = type;
    if (prepend) log.prepend(el); else log.append(el);
  }

  function usage(u, reason) {
    log.append(h('div', {class: 'usage small muted', dataset: {type: 'usage'}},
      `${reason ? `stop: ${reason} · ` : ''}${fmtNum(u.prompt_tokens)} prompt + ${fmtNum(u.completion_tokens)} completion = ${fmtNum(u.total_tokens)} tokens · ${u.step_count ?? '?'} step(s)`));
  }

  async function loadHistory() {
    const messages = await get(`/v1/agents/${ctx.id}/messages${qs({limit: HISTORY})}`);
    clear(log);
    for (const m of messages) show(m);
    first = messages[0]?.id || null;
    earlier.hidden = messages.length < HISTORY;
    if (!messages.length) log.append(h('p', {class: 'empty'}, 'No messages yet. Say hello below.'));
    scroll();
  }

  async function loadEarlier() {
    if (!first) return;
    const messages = await get(`/v1/agents/${ctx.id}/messages${qs({limit: HISTORY, before: first})}`);
    for (const m of [...messages].reverse()) show(m, {prepend: true});
    first = messages[0]?.id || first;
    earlier.hidden = messages.length < HISTORY;
  }

  async function turn(messages, echo) {
    if (running) return;
    running = true; send.disabled = true; stopBtn.hidden = false; status.textContent = 'Running…';
    errors.hide();
    log.querySelector('.empty')?.remove();
    if (echo) show(messages[0].role ? {message_type: `${messages[0].role}_message`, content: messages[0].content, id: `local-${Date.now()}`} :
      {message_type: 'system_message', content: echo, id: `local-${Date.now()}`});
    scroll();
    controller = new AbortController();
    let stopReason = null;
    try {
      const body = {messages, stream_tokens: true, include_pings: true};
      for await (const event of stream(`/v1/agents/${ctx.id}/messages/stream`, body, controller.signal)) {
        if (event.message_type === 'stop_reason') stopReason = event.stop_reason;
        else if (event.message_type === 'usage_statistics') usage(event, stopReason);
        else if (event.message_type !== 'ping') show(event, {chunk: true});
        scroll();
      }
      status.textContent = stopReason ? `Done (${stopReason})` : 'Done';
    } catch (err) {
      errors.show(err);
      status.textContent = 'Failed';
    } finally {
      running = false; send.disabled = false; stopBtn.hidden = true; controller = null; parts.clear();
      ctx.emit('turn');
    }
  }

  async function stop() {
    if (!controller) return;
    status.textContent = 'Stopping…';
    try { await post(`/v1/agents/${ctx.id}/messages/cancel`); } catch (err) { toast(errorText(err), 'error'); }
    controller?.abort();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || running || send.disabled) return;
    input.value = '';
    turn([{role: role.value, content: text}], true);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  try { await loadHistory(); } catch (err) { errors.show(err); }
  send.disabled = false;
  log.dataset.ready = 'true';
  return () => controller?.abort();
}
