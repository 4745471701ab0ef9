// A case-study page: saving the narrative with the version it was read at (a stale version is
// refused by the server, never overwritten), and marking excerpts as the team's exemplars.

import { api, describeError, isOwner, messageArea } from './api.js';

const main = document.getElementById('case');
const messages = messageArea(main);
const kind = main.dataset.kind;
const label = main.dataset.label;

const form = document.getElementById('narrative');
const status = document.getElementById('narrative-status');
if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = form.querySelector('textarea').value;
    const version = form.dataset.version ? Number(form.dataset.version) : null;
    status.textContent = 'saving…';
    try {
      const saved = await api(
        'PUT',
        `/cases/${encodeURIComponent(kind)}/${encodeURIComponent(label)}/narrative`,
        { text, version },
      );
      form.dataset.version = String(saved.version);
      status.textContent = `saved (version ${saved.version})`;
    } catch (e) {
      status.textContent = 'not saved';
      messages.show(describeError(e));
    }
  });
}

if (isOwner) {
  for (const button of main.querySelectorAll('button.mark-exemplar')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const chosen = await api('POST', '/exemplars', {
          coding: button.dataset.coding,
          for: `component:${button.dataset.component}`,
        });
        const quote = button.closest('blockquote');
        quote.classList.add('exemplar');
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = `exemplar ${chosen.position}`;
        button.replaceWith(badge);
        messages.show('Marked as an exemplar quote of this component.', 'info');
      } catch (e) {
        button.disabled = false;
        messages.show(describeError(e));
      }
    });
  }
}
