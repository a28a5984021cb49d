// The Export menu: the list's rows as a CSV or NDJSON file, downloaded by the browser.
import { api, ApiError } from './api.js';
import { $, el } from './dom.js';
import { listParams, showState } from './log-list.js';
import { showSignIn } from './sign-in.js';

export function initExportMenu() {
  const exportMenu = $('export-menu');
  const exportButton = $('export-button');
  const exportList = exportMenu.querySelector('[role=menu]');
  function setMenu(open) {
    exportList.hidden = !open;
    exportButton.setAttribute('aria-expanded', String(open));
    if (open) exportList.querySelector('button').focus();
  }
  exportButton.addEventListener('click', () => setMenu(exportList.hidden));
  exportMenu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      setMenu(false);
      exportButton.focus();
    }
  });
  document.addEventListener('pointerdown', (e) => {
    if (!exportMenu.contains(e.target)) setMenu(false);
  });
  exportList.addEventListener('click', async (e) => {
    const format = e.target.closest('button[data-format]')?.dataset.format;
    if (!format) return;
    setMenu(false);
    exportButton.disabled = true;
    const label = exportButton.lastChild;
    label.textContent = ' Exporting…';
    try {
      // The export uses the list's pinned filters, so its rows are exactly the rows of this view.
      const blob = await api.export({ ...listParams(), format });
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
      const a = el('a', { href: URL.createObjectURL(blob), download: `audit-logs-${stamp}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      if (err instanceof ApiError && err.isAuth) showSignIn(err);
      else showState('error', `Export failed: ${err.message}`);
    } finally {
      exportButton.disabled = false;
      label.textContent = ' Export';
    }
  });
}
