// The exchange page (owners): the study as a REFI-QDA project or codebook for ATLAS.ti, NVivo,
// MAXQDA, QualCoder…, and their projects and codebooks merged into this study, each with what
// was not carried over.

import { apiBase, page, el, append, clear, messageArea, describeError, uid } from './api.js';

function start(main) {
  clear(main);
  const message = messageArea(main);
  const result = el('section', { class: 'card exchange-result', attrs: { 'aria-live': 'polite', 'aria-label': 'Result' }, hidden: true });

  const downloads = el(
    'section',
    { class: 'card' },
    el('h2', { text: 'Export' }),
    el('p', { class: 'hint', text: 'A REFI-QDA project holds the codebook, participants and dyads (as cases), sources, codings, memos and case studies; recordings stay where they are. The codebook alone is a .qdc file.' }),
    el(
      'p',
      {},
      el('a', { class: 'button', href: `${apiBase}/exchange/project.qdpx`, attrs: { download: `${page.slug}.qdpx` }, text: 'Download the project (.qdpx)' }),
      ' ',
      el('a', { class: 'button', href: `${apiBase}/exchange/codebook.qdc`, attrs: { download: `${page.slug}.qdc` }, text: 'Download the codebook (.qdc)' }),
    ),
  );

  const projectFile = el('input', { type: 'file', id: uid('project'), accept: '.qdpx,.qde', required: true });
  const unit = el('select', { id: uid('unit') });
  for (const [v, label] of [['auto', 'decide (NVivo counts UTF-16 units, others code points)'], ['code-points', 'Unicode code points (the standard)'], ['utf16', 'UTF-16 code units (NVivo)']]) {
    unit.append(el('option', { value: v, text: label }));
  }
  const projectButton = el('button', { type: 'submit', class: 'primary', text: 'Merge into this study' });
  const projectForm = el(
    'form',
    { class: 'card', attrs: { 'aria-label': 'Import a project' } },
    el('h2', { text: 'Import a project' }),
    el('p', { class: 'hint', text: 'Codes are matched by GUID, then by path; participants and dyads by label. All of it or nothing.' }),
    el('div', { class: 'field' }, el('label', { attrs: { for: projectFile.id }, text: 'Project file (.qdpx or .qde)' }), projectFile),
    el('div', { class: 'field' }, el('label', { attrs: { for: unit.id }, text: 'Text positions count' }), unit),
    el('div', { class: 'popup-buttons' }, projectButton),
  );
  const codebookFile = el('input', { type: 'file', id: uid('codebook'), accept: '.qdc', required: true });
  const codebookButton = el('button', { type: 'submit', class: 'primary', text: 'Merge the codebook' });
  const codebookForm = el(
    'form',
    { class: 'card', attrs: { 'aria-label': 'Import a codebook' } },
    el('h2', { text: 'Import a codebook' }),
    el('div', { class: 'field' }, el('label', { attrs: { for: codebookFile.id }, text: 'Codebook file (.qdc)' }), codebookFile),
    el('div', { class: 'popup-buttons' }, codebookButton),
  );
  append(main, el('h1', { text: 'Exchange with other tools (REFI-QDA)' }), downloads, projectForm, codebookForm, result);

  async function send(path, file, button) {
    button.disabled = true;
    message.clear();
    result.hidden = true;
    try {
      const response = await fetch(`${apiBase}/exchange/${path}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': page.csrf, 'Content-Type': 'application/octet-stream', Accept: 'application/json' },
        body: file,
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) throw new Error((data && data.error && data.error.message) || `The server answered ${response.status}.`);
      show(file.name, data);
    } catch (e) {
      message.show(describeError(e));
    } finally {
      button.disabled = false;
    }
  }

  function show(name, data) {
    clear(result);
    const m = data.merged;
    result.append(
      el('h2', { text: `Merged ${name}` }),
      el('p', { dataset: { sources: m.sources, codings: m.codings }, text: `${m.sources} sources, ${m.codes_added} new codes (${m.codes_matched} matched), ${m.codings} codings, ${m.memos} memos, ${m.participants} participants, ${m.dyads} dyads.` }),
    );
    if (m.already_there) result.append(el('p', { class: 'hint', text: `${m.already_there} objects were already in the study and were left as they are.` }));
    const lists = [
      ['Conflicts', m.conflicts],
      ['Not carried over', data.report.dropped.map((d) => `${d.count} × ${d.what} — ${d.why}`)],
      ['Notes', data.report.warnings],
    ];
    for (const [title, items] of lists) {
      if (!items.length) continue;
      result.append(el('h3', { text: title }), el('ul', {}, items.map((t) => el('li', { text: t }))));
    }
    if (!data.report.dropped.length) result.append(el('p', { class: 'hint', text: 'Nothing was left out.' }));
    result.hidden = false;
    result.focus();
  }

  projectForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const file = projectFile.files[0];
    if (!file) return message.show('Choose a project file first.');
    send(`project?name=${encodeURIComponent(file.name)}&unit=${encodeURIComponent(unit.value)}`, file, projectButton);
  });
  codebookForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const file = codebookFile.files[0];
    if (!file) return message.show('Choose a codebook file first.');
    send(`codebook?name=${encodeURIComponent(file.name)}`, file, codebookButton);
  });
}

const main = document.querySelector('main#exchange');
if (main) start(main);
