// Signing in with an API key (kept in this tab by api.js) and out again, and why a key was refused.
import { session } from './api.js';
import { $, el } from './dom.js';
import { stopLoading } from './log-list.js';

export function showSignIn(error) {
  stopLoading();
  $('viewer').hidden = true;
  $('streams').hidden = true;
  $('session-actions').hidden = true;
  $('sign-in').hidden = false;
  const box = $('sign-in-error');
  box.hidden = !error;
  if (error) box.replaceChildren(...authExplanation(error));
  $('api-key').value = '';
  $('api-key').focus();
}

/** A person-readable account of a 401/403, led by the API's own message. */
function authExplanation(err) {
  if (err.status === 401) {
    return [
      el('strong', {}, 'That key was not accepted. '),
      err.message,
      el(
        'p',
        {},
        'Check that you pasted the whole key (it starts with “alk_”) and that it has not been revoked.',
      ),
    ];
  }
  if (err.code === 'audit_logs_not_enabled') {
    return [el('strong', {}, 'Audit logs are not enabled for this organization. '), err.message];
  }
  return [
    el('strong', {}, 'This key cannot read audit logs. '),
    err.message,
    el('p', {}, 'Use a personal key of an organization owner or admin, or a workspace-scoped key.'),
  ];
}

/** `onSignIn()` once a key is kept; `onSignOut()` once it is forgotten, before the form shows again. */
export function initSignIn({ onSignIn, onSignOut }) {
  $('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    session.key = key;
    onSignIn();
  });
  $('sign-out').addEventListener('click', () => {
    session.key = null;
    onSignOut();
    showSignIn();
  });
}
