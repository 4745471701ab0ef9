// The memos page: every memo of the study, filtered by what it is about or by text; the
// reflexive journal (memos about the study, and the journal documents); a form to write one.

import { api, apiAll, canWrite, pageBase, el, append, clear, messageArea, messenger, describeError, formatDate, uid } from './api.js';

const KINDS = [
  ['study', 'the study'],
  ['source', 'a source'],
  ['code', 'a code'],
  ['coding', 'a coding'],
  ['dyad', 'a dyad'],
  ['participant', 'a participant'],
];

function start(main) {
  clear(main);
  const message = messageArea(main);
  let memos = [];
  let sources = [];
  let codebook = [];
  let dyads = [];
  let participants = [];
  let view = 'all';

  const params = new URLSearchParams(location.search);
  const wantedOn = params.get('on') || '';
  if (params.get('view') === 'journal') view = 'journal';

  // ---- skeleton ---------------------------------------------------------------------------
  const heading = el('h1', { text: 'Memos' });
  const allBtn = el('button', { type: 'button', class: 'tab', text: 'All memos' });
  const journalBtn = el('button', { type: 'button', class: 'tab', text: 'Reflexive journal' });
  const tabs = el('div', { class: 'tabs', attrs: { role: 'group', 'aria-label': 'View' } }, allBtn, journalBtn);
  allBtn.addEventListener('click', () => setView('all'));
  journalBtn.addEventListener('click', () => setView('journal'));

  const status = messenger(el('div', { class: 'message', attrs: { role: 'status', 'aria-live': 'polite' } }));

  // Filters.
  const kindId = uid('kind');
  const whichId = uid('which');
  const textId = uid('text');
  const kindFilter = el('select', { id: kindId });
  kindFilter.append(el('option', { value: '', text: 'anything' }));
  for (const [k, label] of KINDS) kindFilter.append(el('option', { value: k, text: label }));
  const whichFilter = el('select', { id: whichId });
  const textFilter = el('input', { type: 'search', id: textId, placeholder: 'words in title, text, author…' });
  const filters = el(
    'form',
    { class: 'filters', attrs: { role: 'search', 'aria-label': 'Filter memos' } },
    el('div', {}, el('label', { attrs: { for: kindId }, text: 'About' }), kindFilter),
    el('div', {}, el('label', { attrs: { for: whichId }, text: 'Which' }), whichFilter),
    el('div', { class: 'grow' }, el('label', { attrs: { for: textId }, text: 'Containing' }), textFilter),
  );
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  kindFilter.addEventListener('change', () => {
    fillWhich();
    renderList();
  });
  whichFilter.addEventListener('change', renderList);
  textFilter.addEventListener('input', renderList);

  const count = el('p', { class: 'meta', attrs: { 'aria-live': 'polite' } });
  const list = el('div', { class: 'memo-list' });
  const journalIntro = el('section', { class: 'journal-intro' });
  const listColumn = el('div', { class: 'memo-column' }, filters, journalIntro, count, list);
  const formColumn = el('div', { class: 'memo-form-column' });
  append(main, heading, tabs, el('div', { class: 'memo-columns' }, listColumn, formColumn));

  // ---- the form ---------------------------------------------------------------------------
  const formKindId = uid('on-kind');
  const formTargetId = uid('on-target');
  const titleId = uid('title');
  const bodyId = uid('body');
  const formKind = el('select', { id: formKindId });
  for (const [k, label] of KINDS) if (k !== 'coding') formKind.append(el('option', { value: k, text: label }));
  const formTarget = el('select', { id: formTargetId, required: true });
  const targetRow = el('div', { class: 'field' }, el('label', { attrs: { for: formTargetId }, text: 'Which one' }), formTarget);
  const titleInput = el('input', { type: 'text', id: titleId, required: true, autocomplete: 'off' });
  const bodyInput = el('textarea', { id: bodyId, rows: 10, required: true });
  const submit = el('button', { type: 'submit', class: 'primary', text: 'Save memo' });
  const form = el(
    'form',
    { class: 'card memo-form' },
    el('h2', { text: 'Write a memo' }),
    el('div', { class: 'field' }, el('label', { attrs: { for: formKindId }, text: 'About' }), formKind),
    targetRow,
    el('div', { class: 'field' }, el('label', { attrs: { for: titleId }, text: 'Title' }), titleInput),
    el('div', { class: 'field' }, el('label', { attrs: { for: bodyId }, text: 'Memo' }), bodyInput),
    el('div', { class: 'popup-buttons' }, submit),
  );
  formKind.addEventListener('change', () => fillTargets());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const kind = formKind.value;
    let on = kind;
    if (kind !== 'study') {
      if (!formTarget.value) {
        message.show(`Choose which ${kind} the memo is about.`);
        formTarget.focus();
        return;
      }
      on = `${kind}:${formTarget.value}`;
    }
    const title = titleInput.value.trim();
    const text = bodyInput.value.trim();
    if (!title || !text) {
      message.show('A memo needs a title and some text.');
      (title ? bodyInput : titleInput).focus();
      return;
    }
    submit.disabled = true;
    try {
      const saved = await api('POST', '/memos', { on, title, text });
      titleInput.value = '';
      bodyInput.value = '';
      message.clear();
      await reloadMemos();
      const shown = saved && saved.id && list.querySelector(`[data-memo-id="${CSS.escape(saved.id)}"]`);
      status.show(shown || !saved ? 'Memo saved.' : 'Memo saved. The current filter hides it; choose “anything” to see it.', 'ok');
      titleInput.focus();
    } catch (e) {
      message.show(describeError(e));
    } finally {
      submit.disabled = false;
    }
  });
  if (canWrite) {
    formColumn.append(form, status.node);
  } else {
    formColumn.append(el('p', { class: 'hint card', text: 'Auditors read memos; they do not write them.' }));
  }

  // ---- data -------------------------------------------------------------------------------
  load();

  async function load() {
    list.append(el('p', { class: 'hint', text: 'Loading memos…' }));
    try {
      [memos, sources, codebook, dyads, participants] = await Promise.all([
        apiAll('/memos'),
        apiAll('/sources'),
        apiAll('/codebook'),
        apiAll('/dyads').catch(() => []),
        apiAll('/participants').catch(() => []),
      ]);
    } catch (e) {
      clear(list).append(el('p', { class: 'hint', text: 'The memos could not be loaded.' }));
      message.show(describeError(e));
      return;
    }
    applyWanted();
    fillWhich();
    fillTargets();
    setView(view);
  }

  async function reloadMemos() {
    try {
      memos = await apiAll('/memos');
    } catch (e) {
      message.show(describeError(e));
      return;
    }
    fillWhich();
    renderList();
  }

  /** `?on=source:ID` preselects the form and the filter. */
  function applyWanted() {
    if (!wantedOn) return;
    const [kind, ...rest] = wantedOn.split(':');
    const id = rest.join(':');
    if (!KINDS.some(([k]) => k === kind)) return;
    kindFilter.value = kind;
    if (kind !== 'coding') formKind.value = kind;
    fillWhich();
    if (id) {
      // For dyads and participants the form uses labels; the filter uses ids.
      whichFilter.value = [...whichFilter.options].some((o) => o.value === id) ? id : '';
      fillTargets(id);
    }
  }

  function optionsFor(kind) {
    switch (kind) {
      case 'source':
        return sources.map((s) => [s.id, `${s.name} (${s.kind})`]);
      case 'code':
        return codebook.map((n) => [n.code.id, n.path]);
      case 'dyad':
        return dyads.map((d) => [d.label, d.label]);
      case 'participant':
        return participants.map((p) => [p.label, p.name ? `${p.label} — ${p.name} (${p.role})` : `${p.label} (${p.role})`]);
      default:
        return [];
    }
  }

  function fillTargets(preselect) {
    const kind = formKind.value;
    clear(formTarget);
    const opts = optionsFor(kind);
    targetRow.hidden = kind === 'study';
    formTarget.required = kind !== 'study';
    formTarget.append(el('option', { value: '', text: '— choose —' }));
    for (const [value, label] of opts) formTarget.append(el('option', { value, text: label }));
    if (preselect !== undefined) {
      // A dyad or participant may be given by id: find its label.
      let value = preselect;
      if (kind === 'dyad') value = (dyads.find((d) => d.id === preselect || d.label === preselect) || {}).label || '';
      if (kind === 'participant') value = (participants.find((p) => p.id === preselect || p.label === preselect) || {}).label || '';
      formTarget.value = value;
    }
  }

  function fillWhich() {
    const kind = kindFilter.value;
    const keep = whichFilter.value;
    clear(whichFilter);
    whichFilter.append(el('option', { value: '', text: kind ? 'any' : '—' }));
    whichFilter.disabled = !kind || kind === 'study';
    if (kind && kind !== 'study') {
      const seen = new Map();
      for (const m of memos) {
        if (m.memo.target.kind === kind && m.memo.target.id !== undefined) seen.set(m.memo.target.id, m.about);
      }
      for (const [id, about] of [...seen.entries()].sort((a, b) => String(a[1]).localeCompare(String(b[1])))) {
        whichFilter.append(el('option', { value: id, text: about }));
      }
    }
    whichFilter.value = [...whichFilter.options].some((o) => o.value === keep) ? keep : '';
  }

  // ---- views ------------------------------------------------------------------------------
  function setView(v) {
    view = v;
    allBtn.setAttribute('aria-pressed', v === 'all' ? 'true' : 'false');
    journalBtn.setAttribute('aria-pressed', v === 'journal' ? 'true' : 'false');
    filters.hidden = v === 'journal';
    if (v === 'journal') {
      formKind.value = 'study';
      fillTargets();
    }
    renderList();
  }

  function matchesText(m, words) {
    if (!words.length) return true;
    const hay = `${m.memo.title} ${m.memo.text} ${m.memo.author} ${m.about}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  }

  function renderList() {
    clear(list);
    clear(journalIntro);
    let shown;
    if (view === 'journal') {
      journalIntro.append(
        el('h2', { text: 'Reflexive journal' }),
        el('p', { class: 'hint', text: 'The researchers’ reflections on the study as a whole, oldest first, and the journal documents of the study.' }),
      );
      const journals = sources.filter((s) => s.kind === 'journal');
      const docs = el('ul', { class: 'journal-sources' });
      for (const s of journals) {
        docs.append(el('li', {}, el('a', { href: `${pageBase}/sources/${encodeURIComponent(s.id)}`, text: s.name }), el('span', { class: 'meta', text: ` · journal document` })));
      }
      journalIntro.append(el('h3', { text: 'Journal documents' }), journals.length ? docs : el('p', { class: 'hint', text: 'No source of kind journal.' }));
      journalIntro.append(el('h3', { text: 'Memos about the study' }));
      shown = memos.filter((m) => m.memo.target.kind === 'study').sort((a, b) => String(a.memo.created_at).localeCompare(String(b.memo.created_at)));
    } else {
      const kind = kindFilter.value;
      const which = whichFilter.value;
      const words = textFilter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      shown = memos
        .filter((m) => !kind || m.memo.target.kind === kind)
        .filter((m) => !which || m.memo.target.id === which)
        .filter((m) => matchesText(m, words))
        .sort((a, b) => String(b.memo.created_at).localeCompare(String(a.memo.created_at)));
    }
    count.textContent = view === 'journal' ? `${shown.length} journal memo${shown.length === 1 ? '' : 's'}` : `${shown.length} of ${memos.length} memos`;
    if (!shown.length) {
      list.append(el('p', { class: 'hint', text: view === 'journal' ? 'No memo about the study yet.' : 'No memo matches.' }));
      return;
    }
    for (const m of shown) list.append(memoCard(m));
  }

  function memoCard(m) {
    const memo = m.memo;
    const t = memo.target;
    let about = el('span', { text: m.about || t.kind });
    if (t.kind === 'source' && t.id) about = el('a', { href: `${pageBase}/sources/${encodeURIComponent(t.id)}`, text: m.about });
    else if (t.kind === 'code' && t.id) about = el('a', { href: `${pageBase}/codebook?code=${encodeURIComponent(t.id)}`, text: m.about });
    const edited = memo.updated_at && memo.updated_at !== memo.created_at ? ` (edited ${formatDate(memo.updated_at)})` : '';
    return el(
      'article',
      { class: 'card memo', dataset: { memoId: memo.id, kind: t.kind } },
      el('h3', { text: memo.title || '(untitled)' }),
      el('p', { class: 'meta' }, el('span', { class: 'badge', text: t.kind }), ' About ', about, ` · by ${memo.author} · ${formatDate(memo.created_at)}${edited}`),
      el('div', { class: 'memo-text', text: memo.text }),
    );
  }
}

const main = document.querySelector('main#memos');
if (main) start(main);
