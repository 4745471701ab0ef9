// The queries page: code frequencies and code × case matrices (a cell opens its excerpts),
// co-occurrence (a cell opens its pairs), boolean code queries, and text search as keyword in
// context, with "code all hits": a preview of what would be coded, then one change on confirm.

import { api, apiAll, canWrite, pageBase, el, append, clear, messageArea, describeError, uid } from './api.js';

const GROUPINGS = [
  ['role', 'speaker role'],
  ['participant', 'participant (case)'],
  ['dyad', 'dyad'],
  ['clinician', 'clinician with their patients'],
  ['source', 'source'],
];

function field(labelText, control) {
  if (!control.id) control.id = uid('f');
  return el('div', { class: 'field' }, el('label', { attrs: { for: control.id }, text: labelText }), control);
}

function checkbox(labelText) {
  const box = el('input', { type: 'checkbox', id: uid('c') });
  return { box, node: el('label', { class: 'check', attrs: { for: box.id } }, box, ` ${labelText}`) };
}

/** One passage in context: …before [text] after…, with where it is and who said it. */
function kwicRow(e, extra) {
  const where = el('a', { href: `${pageBase}/sources/${encodeURIComponent(e.source)}`, text: e.source_name });
  return el(
    'tr',
    { class: 'kwic', dataset: { source: e.source, start: e.span.start, end: e.span.end } },
    el('td', { class: 'kwic-before', text: e.before }),
    el('td', { class: 'kwic-hit' }, el('mark', { text: e.text })),
    el('td', { class: 'kwic-after', text: e.after }),
    el('td', {}, where, el('span', { class: 'meta', text: ` ${e.span.start}–${e.span.end}` })),
    el('td', { text: [e.speaker, e.role ? `(${e.role})` : ''].filter(Boolean).join(' ') }),
    extra ? el('td', {}, extra) : null,
  );
}

function kwicTable(list, extraHead, extraOf) {
  const head = el('tr', {}, ...['Before', 'Passage', 'After', 'Source', 'Speaker'].map((h) => el('th', { attrs: { scope: 'col' }, text: h })));
  if (extraHead) head.append(el('th', { attrs: { scope: 'col' }, text: extraHead }));
  const body = el('tbody');
  list.forEach((e, i) => body.append(kwicRow(e, extraOf ? extraOf(i) : null)));
  return el('table', { class: 'data kwic-table' }, el('thead', {}, head), body);
}

function start(main) {
  clear(main);
  const message = messageArea(main);
  const sections = {};
  const tabs = el('div', { class: 'tabs', attrs: { role: 'group', 'aria-label': 'Query' } });
  const show = (name) => {
    for (const [n, s] of Object.entries(sections)) {
      s.section.hidden = n !== name;
      s.tab.setAttribute('aria-pressed', String(n === name));
    }
  };
  const section = (name, title) => {
    const tab = el('button', { type: 'button', class: 'tab', text: title, dataset: { tab: name }, on: { click: () => show(name) } });
    const s = el('section', { class: 'query-section', dataset: { section: name }, attrs: { 'aria-label': title } }, el('h2', { text: title }));
    tabs.append(tab);
    main.append(s);
    sections[name] = { tab, section: s };
    return s;
  };
  append(main, el('h1', { text: 'Queries' }), tabs);

  // ---- frequencies and matrices ------------------------------------------------------------
  const freq = section('matrix', 'Frequencies and matrices');
  const bySelect = el('select', {});
  for (const [v, label] of GROUPINGS) bySelect.append(el('option', { value: v, text: label }));
  const subcodes = checkbox('count sub-codes with their parent');
  const showMatrix = el('button', { type: 'submit', class: 'primary', text: 'Show' });
  const matrixForm = el('form', { class: 'card' }, field('Columns', bySelect), subcodes.node, el('div', { class: 'popup-buttons' }, showMatrix));
  const matrixOut = el('div', { class: 'matrix-out', attrs: { 'aria-live': 'polite' } });
  const cellOut = el('div', { class: 'cell-out', attrs: { 'aria-live': 'polite' } });
  append(freq, matrixForm, matrixOut, cellOut);
  let matrixParams = null;

  matrixForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ by: bySelect.value });
    if (subcodes.box.checked) q.set('include_subcodes', 'true');
    message.clear();
    clear(cellOut);
    clear(matrixOut).append(el('p', { class: 'hint', text: 'Counting…' }));
    try {
      const m = await api('GET', `/query/frequencies?${q}`);
      matrixParams = q;
      renderMatrix(m);
    } catch (e) {
      clear(matrixOut);
      message.show(describeError(e));
    }
  });

  function renderMatrix(m) {
    clear(matrixOut);
    const head = el('tr', {}, el('th', { attrs: { scope: 'col' }, text: 'Code' }));
    for (const c of m.columns) head.append(el('th', { attrs: { scope: 'col' }, text: c.label }));
    head.append(el('th', { attrs: { scope: 'col' }, text: 'Total' }), el('th', { attrs: { scope: 'col' }, text: 'Contrast (apart)' }));
    const body = el('tbody');
    const cellButton = (row, key, label, cell) => {
      if (!cell.codings && !cell.contrast) return el('td', { class: 'number meta', text: '0' });
      const b = el('button', {
        type: 'button',
        class: 'link-button',
        text: String(cell.codings),
        dataset: { code: row.code, column: key },
        attrs: { 'aria-label': `${row.path}, ${label}: ${cell.codings} codings in ${cell.sources} sources${cell.contrast ? `, ${cell.contrast} contrast` : ''}` },
        on: { click: () => openCell(row, key) },
      });
      return el('td', { class: 'number', attrs: { title: `${cell.sources} sources, ${cell.cases} cases${cell.contrast ? `, ${cell.contrast} contrast` : ''}` } }, b);
    };
    for (const row of m.rows) {
      if (!row.total.codings && !row.total.contrast) continue;
      const tr = el('tr', { dataset: { code: row.code } }, el('th', { attrs: { scope: 'row' }, text: row.path }));
      m.columns.forEach((c, i) => tr.append(cellButton(row, c.key, c.label, row.cells[i])));
      tr.append(cellButton(row, 'total', 'total', row.total), el('td', { class: 'number', text: String(row.total.contrast) }));
      body.append(tr);
    }
    // Per column, every coding of the table once (a coding of a sub-code too, however many rows it is in).
    const foot = el('tr', { class: 'matrix-totals' }, el('th', { attrs: { scope: 'row' }, text: 'All these codes (each coding once)' }));
    m.totals.forEach((t, i) => foot.append(el('td', { class: 'number', attrs: { title: `${t.contrast} contrast, apart` } }, String(t.codings))));
    foot.append(el('td'), el('td'));
    matrixOut.append(
      el('p', { class: 'meta', text: `Codings per code and ${m.by}. Choose a number to read its excerpts.` }),
      el('div', { class: 'table-scroll' }, el('table', { class: 'data matrix-table' }, el('thead', {}, head), body, el('tfoot', {}, foot))),
      el('p', { class: 'meta matrix-rule', text: m.rule }),
    );
  }

  async function openCell(row, key) {
    const q = new URLSearchParams(matrixParams);
    q.set('code', row.code);
    q.set('column', key);
    clear(cellOut).append(el('p', { class: 'hint', text: 'Loading excerpts…' }));
    try {
      const c = await api('GET', `/query/cell?${q}`);
      const shown = c.more ? ` (a page of ${c.codings.length} shown)` : '';
      clear(cellOut).append(el('h3', { text: `${c.code} · ${c.column}: ${c.counts.codings} excerpts${shown}` }));
      cellOut.append(kwicTable(c.codings, 'Coder', (i) => c.codings[i].coder));
      if (c.contrast.length) {
        cellOut.append(el('h4', { text: `Contrast codings (apart): ${c.contrast.length}` }), kwicTable(c.contrast, 'Coder', (i) => c.contrast[i].coder));
      }
      cellOut.querySelector('h3').setAttribute('tabindex', '-1');
      cellOut.querySelector('h3').focus();
    } catch (e) {
      clear(cellOut);
      message.show(describeError(e));
    }
  }

  // ---- co-occurrence -------------------------------------------------------------------------
  const co = section('cooccur', 'Co-occurrence');
  const modeSelect = el('select', {});
  for (const [v, label] of [['overlap', 'overlapping codings'], ['turn', 'in the same turn'], ['near', 'within N characters']]) modeSelect.append(el('option', { value: v, text: label }));
  const within = el('input', { type: 'number', min: '0', value: '200' });
  const withinField = field('N (characters)', within);
  const coSub = checkbox('count a sub-code’s codings for the codes above it too');
  const coForm = el('form', { class: 'card' }, field('Codings go together when', modeSelect), withinField, coSub.node, el('div', { class: 'popup-buttons' }, el('button', { type: 'submit', class: 'primary', text: 'Show' })));
  const coOut = el('div', { attrs: { 'aria-live': 'polite' } });
  const pairOut = el('div', { attrs: { 'aria-live': 'polite' } });
  append(co, coForm, el('p', { class: 'hint', text: 'Pairs of one coder’s codings of two different codes in one source; contrast codings are left out.' }), coOut, pairOut);
  const syncCo = () => { withinField.hidden = modeSelect.value !== 'near'; };
  modeSelect.addEventListener('change', syncCo);
  syncCo();
  let coParams = null;
  coForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ mode: modeSelect.value });
    if (modeSelect.value === 'near') q.set('within', within.value || '0');
    if (coSub.box.checked) q.set('include_subcodes', 'true');
    message.clear();
    clear(pairOut);
    try {
      const m = await api('GET', `/query/cooccurrence?${q}`);
      coParams = q;
      clear(coOut);
      if (m.include_subcodes) coOut.append(el('p', { class: 'meta', text: 'Sub-codes counted with the codes above them; a code and a code above or below it are never a pair.' }));
      const head = el('tr', {}, el('th', { attrs: { scope: 'col' }, text: '' }), ...m.codes.map((c) => el('th', { attrs: { scope: 'col' }, text: c.path })));
      const body = el('tbody');
      m.codes.forEach((a, i) => {
        const tr = el('tr', {}, el('th', { attrs: { scope: 'row' }, text: a.path }));
        m.codes.forEach((b, j) => {
          const n = m.counts[i][j];
          tr.append(n ? el('td', { class: 'number' }, el('button', { type: 'button', class: 'link-button', text: String(n), dataset: { a: a.id, b: b.id }, on: { click: () => openPairs(a.id, b.id) } })) : el('td', { class: 'number meta', text: i === j ? '—' : '0' }));
        });
        body.append(tr);
      });
      coOut.append(el('div', { class: 'table-scroll' }, el('table', { class: 'data cooccur-table' }, el('thead', {}, head), body)));
    } catch (e) {
      message.show(describeError(e));
    }
  });

  async function openPairs(a, b) {
    const q = new URLSearchParams(coParams);
    q.set('a', a);
    q.set('b', b);
    try {
      const r = await api('GET', `/query/cooccurrence/cell?${q}`);
      const shown = r.more ? ` (the first ${r.pairs.length} shown)` : '';
      clear(pairOut).append(el('h3', { text: `${r.a} with ${r.b} (${r.mode}): ${r.total} pairs${shown}` }));
      const list = [];
      for (const p of r.pairs) list.push(p.a, p.b);
      pairOut.append(kwicTable(list.filter(Boolean), 'Code', (i) => list[i].code_path));
    } catch (e) {
      message.show(describeError(e));
    }
  }

  // ---- boolean code queries ---------------------------------------------------------------
  const bool = section('codes', 'Code query');
  const expr = el('input', { type: 'text', class: 'wide', autocomplete: 'off', attrs: { placeholder: 'valuing AND (trust OR hope) NOT abiding' } });
  const boolSub = checkbox('a code includes its sub-codes');
  const boolForm = el('form', { class: 'card' }, field('Query (AND, OR, NOT, OVERLAPPING, NEAR n, parentheses)', expr), boolSub.node, el('div', { class: 'popup-buttons' }, el('button', { type: 'submit', class: 'primary', text: 'Find passages' })));
  const boolOut = el('div', { attrs: { 'aria-live': 'polite' } });
  append(bool, boolForm, boolOut);
  boolForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ q: expr.value });
    if (boolSub.box.checked) q.set('include_subcodes', 'true');
    message.clear();
    try {
      const r = await api('GET', `/query/codes?${q}`);
      clear(boolOut).append(el('p', { class: 'meta result-count', text: `${r.total} passages in ${r.sources} sources${r.passages.length < r.total ? ` (the first ${r.passages.length} shown)` : ''}.` }), kwicTable(r.passages));
    } catch (e) {
      clear(boolOut);
      message.show(describeError(e));
    }
  });

  // ---- text search ------------------------------------------------------------------------
  const find = section('search', 'Text search');
  const text = el('input', { type: 'search', class: 'wide', autocomplete: 'off', attrs: { placeholder: 'trust* "feel known" José' } });
  const role = el('select', {});
  for (const [v, label] of [['', 'anyone'], ['patient', 'patients'], ['clinician', 'clinicians'], ['interviewer', 'interviewers'], ['other', 'others']]) role.append(el('option', { value: v, text: label }));
  const searchForm = el('form', { class: 'card search-form' }, field('Words, "phrases", wildcards (* and ?); case and accents ignored', text), field('Said by', role), el('div', { class: 'popup-buttons' }, el('button', { type: 'submit', class: 'primary', text: 'Search' })));
  const searchOut = el('div', { class: 'search-out', attrs: { 'aria-live': 'polite' } });
  const codeAll = el('div', { class: 'code-all', hidden: true });
  append(find, searchForm, searchOut, codeAll);
  let codebook = [];
  let last = null;

  searchForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ q: text.value });
    if (role.value) q.set('role', role.value);
    message.clear();
    try {
      const r = await api('GET', `/query/search?${q}`);
      last = { q: text.value, role: role.value || null };
      clear(searchOut).append(el('p', { class: 'meta result-count', text: `${r.total} hits in ${r.sources} sources${r.hits.length < r.total ? ` (the first ${r.hits.length} shown)` : ''}.` }), kwicTable(r.hits));
      renderCodeAll();
    } catch (e) {
      clear(searchOut);
      codeAll.hidden = true;
      message.show(describeError(e));
    }
  });

  function renderCodeAll() {
    clear(codeAll);
    codeAll.hidden = !canWrite || !last;
    if (codeAll.hidden) return;
    const codeSelect = el('select', { attrs: { 'aria-label': 'Code for every hit' } });
    for (const n of codebook) codeSelect.append(el('option', { value: n.code.id, text: n.path }));
    const preview = el('button', { type: 'button', text: 'Preview coding every hit' });
    const out = el('div', { class: 'code-all-preview', attrs: { 'aria-live': 'polite' } });
    append(codeAll, el('h3', { text: 'Code all hits' }), field('Code', codeSelect), preview, out);
    preview.addEventListener('click', async () => {
      const body = { q: last.q, code: codeSelect.value, role: last.role || undefined };
      try {
        const plan = await api('POST', '/query/search/code-all/preview', body);
        clear(out).append(el('p', { class: 'plan-summary', dataset: { toCode: plan.to_code, already: plan.already_coded }, text: `${plan.total_hits} hits in ${plan.sources} sources: ${plan.to_code} would be coded ${plan.code_path} as ${plan.coder}; ${plan.already_coded} already are and stay as they are.` }));
        out.append(kwicTable(plan.hits.map((h) => h.excerpt), 'Status', (i) => (plan.hits[i].already_coded ? 'already coded' : 'new')));
        if (plan.to_code > 0) {
          const confirm = el('button', { type: 'button', class: 'primary', text: `Code ${plan.to_code} hits` });
          confirm.addEventListener('click', async () => {
            confirm.disabled = true;
            try {
              const done = await api('POST', '/query/search/code-all/apply', { ...body, expected: plan.to_code });
              message.show(`Coded ${done.coded} hits with ${done.code} as ${done.coder}.`, 'ok');
              clear(out).append(el('p', { class: 'applied', dataset: { coded: done.coded }, text: `Coded ${done.coded} hits (${done.already_coded} were coded already).` }));
            } catch (e) {
              confirm.disabled = false;
              message.show(describeError(e));
            }
          });
          out.append(confirm);
        }
      } catch (e) {
        message.show(describeError(e));
      }
    });
  }

  show('matrix');
  (async () => {
    try {
      codebook = await apiAll('/codebook');
      const people = await apiAll('/participants');
      const keys = new Set();
      for (const p of people) for (const k of Object.keys(p.attributes || {})) keys.add(k);
      for (const k of [...keys].sort()) bySelect.append(el('option', { value: `attribute:${k}`, text: `attribute: ${k}` }));
      // What the interviews record (others present, interviewer…), where any has a value.
      const recorded = new Set();
      for (const s of await apiAll('/sources')) {
        for (const [k, v] of Object.entries(s.interview || {})) {
          if (v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)) recorded.add(k);
        }
      }
      for (const k of [...recorded].sort()) bySelect.append(el('option', { value: `interview:${k}`, text: `interview: ${k.replaceAll('_', ' ')}` }));
    } catch (e) {
      message.show(describeError(e));
    }
  })();
}

const main = document.getElementById('query');
if (main) start(main);
