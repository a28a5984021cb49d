// The admin page: sign-in, then the audit log (filters in the URL, the list with "Load more", row details,
// histogram, export) or the Streams view. This module wires the parts; each is in its own file.
import { session } from './api.js';
import { $, relativeTime } from './dom.js';
import { initExportMenu } from './export-menu.js';
import { forgetFacets, initFilters, rereadView, syncControls } from './filter-controls.js';
import { initList, load, showState } from './log-list.js';
import { forgetPublicKey } from './row-detail.js';
import { initSignIn, showSignIn } from './sign-in.js';
import { initStreams, refresh as refreshStreams } from './streams.js';

function showViewer() {
  $('sign-in').hidden = true;
  $('session-actions').hidden = false;
  if (location.hash === '#streams') return showStreams();
  $('streams').hidden = true;
  $('streams-button').setAttribute('aria-pressed', 'false');
  $('viewer').hidden = false;
  syncControls();
  load();
}

// --- Streams (streams.js); #streams in the address keeps the view across a reload ----------------------------

function showStreams() {
  $('viewer').hidden = true;
  $('streams').hidden = false;
  $('streams-button').setAttribute('aria-pressed', 'true');
  refreshStreams();
}

initSignIn({
  onSignIn: showViewer,
  onSignOut: () => {
    forgetFacets();
    forgetPublicKey();
  },
});
initStreams();
$('streams-button').addEventListener('click', () => {
  if (location.hash === '#streams') return;
  history.pushState(history.state, '', `${location.pathname}${location.search}#streams`);
  showStreams();
});
$('streams-back').addEventListener('click', () => {
  history.pushState(history.state, '', `${location.pathname}${location.search}`);
  showViewer();
});

initFilters({ onChange: load, showState });
window.addEventListener('popstate', () => {
  rereadView();
  if (session.key) showViewer();
});
initList({ showSignIn });
initExportMenu();

// Relative hints ("3 min. ago") stay true while the page is open.
setInterval(() => {
  for (const t of document.querySelectorAll('#rows time')) {
    t.nextElementSibling.textContent = relativeTime(t.getAttribute('datetime'));
  }
}, 60_000);

if (session.key) showViewer();
else showSignIn();
