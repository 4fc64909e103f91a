// The shell: routes /, /agents and /agents/{id}; asks for the password when the API answers 401.
import {h, clear, field, errorArea} from './dom.js';
import {auth, get, setPassword, forgetPassword, password, ApiError} from './api.js';

const main = document.getElementById('main');
let current = null; // the mounted page's cleanup

export function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
  route();
}

async function route() {
  if (current) { current(); current = null; }
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const match = path.match(/^\/agents\/([^/]+)$/);
  clear(main, h('p', {class: 'muted pad'}, 'Loading…'));
  try {
    if (match) {
      const {mountAgent} = await import('./agent.js');
      current = await mountAgent(main, decodeURIComponent(match[1]));
    } else {
      const {mountAgents} = await import('./agents.js');
      current = await mountAgents(main);
    }
    performance.mark('agenthost:ready');  // the page's data is on screen (bench/bench_ui.py reads it)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the login dialog takes over
    clear(main, h('div', {class: 'pad'}, h('h1', null, 'Something went wrong'),
      h('p', {class: 'error', role: 'alert'}, err.detail !== undefined ? `${err.status}: ${err.detail}` : String(err)),
      h('p', null, h('a', {href: '/', 'data-link': ''}, 'Back to the agents'))));
  }
}

let loginOpen = false;
function login() {
  if (loginOpen) return;
  loginOpen = true;
  const input = h('input', {type: 'password', name: 'password', autocomplete: 'current-password', required: true});
  const remember = h('input', {type: 'checkbox', name: 'remember'});
  const errors = errorArea();
  if (password()) errors.show({status: 401, detail: 'The password was not accepted.'});
  const form = h('form', {class: 'card login', 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title'}, 'Sign in'),
    h('p', {class: 'muted'}, 'This server is protected (SECURE=true). Enter its password; it is sent as a bearer token.'),
    field('Server password', input),
    h('label', {class: 'check'}, remember, ' Remember on this device'),
    errors,
    h('button', {type: 'submit', class: 'primary'}, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setPassword(input.value, remember.checked);
    try {
      await get('/v1/agents/count');
    } catch (err) {
      errors.show(err.status === 401 ? {status: 401, detail: 'Wrong password.'} : err);
      return;
    }
    loginOpen = false;
    document.getElementById('logout').hidden = false;
    route();
  });
  clear(main, h('div', {class: 'center'}, form));
  input.focus();
}

auth.addEventListener('unauthorized', () => {
  if (current) { current(); current = null; }
  login();
});

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);

const logout = document.getElementById('logout');
logout.hidden = !password();
logout.addEventListener('click', () => { forgetPassword(); logout.hidden = true; login(); });

route();
