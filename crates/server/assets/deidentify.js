// The de-identification page (owners): candidate terms (click to add), the editable table of
// terms and pseudonyms, a preview of every replacement, then one Apply that rewrites every
// affected source and moves every coding with its words. The stored mapping (the original
// terms) can be downloaded or destroyed.

import { api, apiAll, el, append, clear, messageArea, describeError, isOwner, uid } from './api.js';

function start(main) {
  clear(main);
  const message = messageArea(main);
  if (!isOwner) {
    message.show('Only an owner may de-identify the study.');
    return;
  }
  let lastPreview = null;

  // ---- the mapping table ------------------------------------------------------------------
  const rows = el('tbody');
  const caseBox = el('input', { type: 'checkbox', id: uid('case') });
  const previewButton = el('button', { type: 'button', class: 'primary', text: 'Preview' });
  const applyButton = el('button', { type: 'button', class: 'danger', text: 'Apply…', disabled: true });
  const addRow = el('button', { type: 'button', text: 'Add a row' });
  const table = el(
    'table',
    { class: 'data deidentify-mapping' },
    el('caption', { text: 'Terms and their pseudonyms' }),
    el('thead', {}, el('tr', {}, el('th', { attrs: { scope: 'col' }, text: 'Term (as written)' }), el('th', { attrs: { scope: 'col' }, text: 'Pseudonym' }), el('th', { attrs: { scope: 'col' }, text: '' }))),
    rows,
  );
  const mappingCard = el(
    'section',
    { class: 'card', attrs: { 'aria-label': 'Mapping' } },
    el('h2', { text: 'Mapping' }),
    el('p', { class: 'hint', text: 'Terms match whole words, the longest first ("Dr Ruiz" before "Ruiz"). A coding of a name ends up on its pseudonym.' }),
    table,
    el('div', { class: 'popup-buttons' }, addRow, el('label', { class: 'check', attrs: { for: caseBox.id } }, caseBox, ' match whatever the case ("DR RUIZ" too)'), previewButton, applyButton),
  );
  const candidatesCard = el('section', { class: 'card', attrs: { 'aria-label': 'Candidates' } }, el('h2', { text: 'Candidates' }), el('p', { class: 'hint', text: 'Loading…' }));
  const previewCard = el('section', { class: 'card deidentify-preview', attrs: { 'aria-label': 'Preview', 'aria-live': 'polite' } });
  const storedCard = el('section', { class: 'card', attrs: { 'aria-label': 'Stored mapping' } });
  append(main, el('h1', { text: 'De-identify' }), mappingCard, previewCard, candidatesCard, storedCard);

  function mappingRow(term = '', pseudonym = '') {
    const t = el('input', { type: 'text', value: term, attrs: { 'aria-label': 'Term' }, dataset: { field: 'term' } });
    const p = el('input', { type: 'text', value: pseudonym, attrs: { 'aria-label': 'Pseudonym' }, dataset: { field: 'pseudonym' } });
    const remove = el('button', { type: 'button', class: 'link-button', text: 'Remove' });
    const tr = el('tr', {}, el('td', {}, t), el('td', {}, p), el('td', {}, remove));
    remove.addEventListener('click', () => {
      tr.remove();
      stale();
    });
    for (const input of [t, p]) input.addEventListener('input', stale);
    rows.append(tr);
    return tr;
  }

  function mapping() {
    return [...rows.querySelectorAll('tr')]
      .map((tr) => ({ term: tr.querySelector('[data-field="term"]').value.trim(), pseudonym: tr.querySelector('[data-field="pseudonym"]').value.trim() }))
      .filter((m) => m.term || m.pseudonym);
  }

  /** The table changed: the preview no longer describes it. */
  function stale() {
    applyButton.disabled = true;
    if (lastPreview) {
      lastPreview = null;
      clear(previewCard).append(el('p', { class: 'hint', text: 'The mapping changed: preview again before applying.' }));
    }
  }

  addRow.addEventListener('click', () => mappingRow().querySelector('input').focus());
  caseBox.addEventListener('change', stale);
  previewButton.addEventListener('click', preview);
  applyButton.addEventListener('click', apply);
  mappingRow();

  // ---- candidates -------------------------------------------------------------------------
  async function loadCandidates() {
    let list;
    try {
      list = await apiAll('/deidentify/candidates');
    } catch (e) {
      message.show(describeError(e));
      return;
    }
    clear(candidatesCard).append(el('h2', { text: 'Candidates' }), el('p', { class: 'hint', text: 'Capitalised words inside sentences, participants’ names and labels, speaker labels. Click a term to add it to the mapping.' }));
    if (!list.length) {
      candidatesCard.append(el('p', { class: 'hint', text: 'No candidates.' }));
      return;
    }
    const body = el('tbody');
    for (const c of list) {
      const add = el('button', { type: 'button', class: 'link-button', text: c.term, dataset: { term: c.term } });
      add.addEventListener('click', () => {
        const existing = mapping().some((m) => m.term === c.term);
        if (existing) return;
        const empty = [...rows.querySelectorAll('tr')].find((tr) => !tr.querySelector('[data-field="term"]').value.trim());
        const tr = empty || mappingRow();
        tr.querySelector('[data-field="term"]').value = c.term;
        const p = tr.querySelector('[data-field="pseudonym"]');
        if (!p.value) p.value = `[Person ${rows.querySelectorAll('tr').length}]`;
        p.focus();
        p.select();
        stale();
      });
      body.append(
        el(
          'tr',
          {},
          el('td', {}, add),
          el('td', { class: 'number', text: String(c.count) }),
          el('td', { text: c.kinds.join(', ') }),
          el('td', { class: 'meta', text: c.sources.map(([s, n]) => `${s} (${n})`).join(', ') }),
        ),
      );
    }
    const head = el('tr', {}, ...['Term', 'Occurrences', 'From', 'Sources'].map((h) => el('th', { attrs: { scope: 'col' }, text: h })));
    candidatesCard.append(el('table', { class: 'data deidentify-candidates' }, el('thead', {}, head), body));
  }

  // ---- preview and apply ------------------------------------------------------------------
  async function preview() {
    const m = mapping();
    message.clear();
    previewButton.disabled = true;
    try {
      lastPreview = { mapping: m, case_insensitive: caseBox.checked, result: await api('POST', '/deidentify/preview', { mapping: m, case_insensitive: caseBox.checked }) };
      renderPreview(lastPreview.result);
      applyButton.disabled = false;
    } catch (e) {
      lastPreview = null;
      applyButton.disabled = true;
      clear(previewCard);
      message.show(describeError(e));
    } finally {
      previewButton.disabled = false;
    }
  }

  function renderPreview(p) {
    clear(previewCard).append(el('h2', { text: 'Preview' }));
    const shown = p.replacements.length;
    previewCard.append(
      el('p', {
        class: 'deidentify-totals',
        text: `${p.total_replacements} replacements in ${p.sources.length} source${p.sources.length === 1 ? '' : 's'}; ${p.labels.length} speaker labels; ${p.notes} memos or narratives. Nothing has changed yet.`,
      }),
    );
    const terms = el('ul', { class: 'deidentify-terms' });
    for (const t of p.terms) terms.append(el('li', {}, `${t.term} → ${t.pseudonym}: ${t.count}`, t.count ? null : el('span', { class: 'meta', text: ' (in no text, or only inside a longer term)' })));
    previewCard.append(terms);
    if (p.labels.length) {
      const labels = el('ul', { class: 'deidentify-labels' });
      for (const l of p.labels) labels.append(el('li', { text: `${l.source_name}: speaker ${l.old} → ${l.new}` }));
      previewCard.append(el('h3', { text: 'Speaker labels' }), labels);
    }
    const list = el('ol', { class: 'deidentify-replacements' });
    for (const r of p.replacements) {
      list.append(
        el('li', { dataset: { source: r.source } }, el('span', { class: 'meta', text: `${r.source_name} ${r.span.start}–${r.span.end}: ` }), `…${r.before}`, el('del', { text: r.old }), el('ins', { text: r.new }), `${r.after}…`),
      );
    }
    previewCard.append(el('h3', { text: 'Replacements' }), list);
    if (shown < p.total_replacements) previewCard.append(el('p', { class: 'hint', text: `The first ${shown} of ${p.total_replacements} are listed.` }));
  }

  async function apply() {
    if (!lastPreview) return;
    const p = lastPreview.result;
    const ok = window.confirm(
      `Rewrite ${p.sources.length} source${p.sources.length === 1 ? '' : 's'} (${p.total_replacements} replacements) and move every coding with its words? The original texts are not kept; the mapping is stored in the study until you destroy it.`,
    );
    if (!ok) return;
    const versions = Object.fromEntries(p.sources.map((s) => [s.id, s.version]));
    applyButton.disabled = true;
    try {
      const done = await api('POST', '/deidentify/apply', { mapping: lastPreview.mapping, case_insensitive: lastPreview.case_insensitive, versions });
      lastPreview = null;
      clear(previewCard).append(
        el('h2', { text: 'Applied' }),
        el('p', { class: 'deidentify-applied', text: `${done.replacements} replacements in ${done.sources.length} sources; ${done.codings} codings and ${done.passages} memo passages moved with their words; ${done.notes} memos or narratives rewritten.` }),
      );
      // Saved, but the file was not rebuilt: say so, and what to do.
      if (done.vacuum_failed) message.show(done.vacuum_failed);
      else message.show('De-identified. Export the mapping if you need it, then destroy it.', 'ok');
      loadCandidates();
      loadStored();
    } catch (e) {
      message.show(describeError(e));
    }
  }

  // ---- the stored mapping -----------------------------------------------------------------
  async function loadStored() {
    let entries;
    try {
      entries = await apiAll('/deidentify/mapping');
    } catch (e) {
      message.show(describeError(e));
      return;
    }
    clear(storedCard).append(el('h2', { text: 'Stored mapping' }));
    if (!entries.length) {
      storedCard.append(el('p', { class: 'hint', text: 'The study keeps no original terms.' }));
      return;
    }
    storedCard.append(el('p', { class: 'hint', text: 'The only place the study keeps the original terms. Download it to keep it apart from the study, then destroy it.' }));
    const body = el('tbody');
    for (const e of entries) body.append(el('tr', {}, el('td', { text: e.term }), el('td', { text: e.pseudonym }), el('td', { class: 'number', text: String(e.replacements) }), el('td', { class: 'meta', text: `${e.actor}, ${e.at}` })));
    const head = el('tr', {}, ...['Term', 'Pseudonym', 'Replacements', 'Applied by'].map((h) => el('th', { attrs: { scope: 'col' }, text: h })));
    const download = el('button', { type: 'button', text: 'Download as CSV' });
    const destroy = el('button', { type: 'button', class: 'danger', text: 'Destroy the mapping…' });
    download.addEventListener('click', () => {
      const cell = (v) => `"${String(v).replace(/"/g, '""')}"`;
      const csv = ['term,pseudonym,replacements,run,actor,at', ...entries.map((e) => [e.term, e.pseudonym, e.replacements, e.run, e.actor, e.at].map(cell).join(','))].join('\n') + '\n';
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const a = el('a', { href: url, download: 'mapping.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      URL.revokeObjectURL(url);
    });
    destroy.addEventListener('click', async () => {
      if (!window.confirm('Destroy the mapping for good? The study will keep no original terms, and this cannot be undone.')) return;
      try {
        const r = await api('DELETE', '/deidentify/mapping');
        if (r.vacuum_failed) message.show(r.vacuum_failed);
        else message.show(`Destroyed ${r.destroyed} terms; the study file was vacuumed.`, 'ok');
        loadStored();
      } catch (e) {
        message.show(describeError(e));
      }
    });
    storedCard.append(el('table', { class: 'data deidentify-stored' }, el('thead', {}, head), body), el('div', { class: 'popup-buttons' }, download, destroy));
  }

  loadCandidates();
  loadStored();
}

const main = document.getElementById('deidentify');
if (main) start(main);
