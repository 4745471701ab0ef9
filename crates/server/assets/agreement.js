// The agreement page: choose coders, sources, codes (or a group of codes) and a unit; see each
// coefficient by the name it is published under; then the disagreement viewer — every coder's
// version of each passage side by side, disagreements first — where the team accepts one
// version into a consensus coder or records a discussion memo on the passage.

import {
  api, apiAll, canWrite, pageBase, el, append, clear, messageArea, messenger, describeError, cpArray, formatDate, uid,
} from './api.js';

const UNITS = [
  ['characters', 'characters (the text as a continuum)'],
  ['turns', 'speaker turns (code present or not)'],
  ['segments', 'segments matched by overlap'],
];

const DIFFERENCES = {
  missing: 'not coded by every coder',
  boundaries: 'coded by all, stretches differ',
  agreed: 'agreed',
};

function start(main) {
  clear(main);
  const message = messageArea(main);
  const status = messenger(el('div', { class: 'message', attrs: { role: 'status', 'aria-live': 'polite' } }));
  let coders = [];
  let sources = [];
  let codebook = [];
  let lastQuery = null;

  // ---- the form ---------------------------------------------------------------------------
  const coderBox = el('fieldset', { class: 'coder-choice' }, el('legend', { text: 'Coders' }));
  const sourcesId = uid('sources');
  const sourceSelect = el('select', { id: sourcesId, multiple: true, size: 6 });
  const codesMode = el('select', { id: uid('codes-mode') });
  for (const [v, label] of [['used', 'every code the coders used'], ['group', 'the sub-codes of one code (a group)'], ['chosen', 'the codes chosen here']]) {
    codesMode.append(el('option', { value: v, text: label }));
  }
  const groupSelect = el('select', { id: uid('group'), attrs: { 'aria-label': 'Group: the code whose sub-codes are compared' } });
  const codeSelect = el('select', { id: uid('codes'), multiple: true, size: 8, attrs: { 'aria-label': 'Codes compared' } });
  const unitSelect = el('select', { id: uid('unit') });
  for (const [v, label] of UNITS) unitSelect.append(el('option', { value: v, text: label }));
  const overlapInput = el('input', { type: 'number', id: uid('overlap'), min: '0.05', max: '1', step: '0.05', value: '0.6' });
  const overlapField = el('div', { class: 'field' }, el('label', { attrs: { for: overlapInput.id }, text: 'Minimum overlap (intersection over union)' }), overlapInput);
  const consensusInput = el('input', { type: 'text', id: uid('consensus'), value: 'consensus', autocomplete: 'off' });
  const compute = el('button', { type: 'submit', class: 'primary', text: 'Compare' });
  const form = el(
    'form',
    { class: 'card agreement-form', attrs: { 'aria-label': 'What to compare' } },
    coderBox,
    el('div', { class: 'field' }, el('label', { attrs: { for: sourcesId }, text: 'Sources (none chosen: all)' }), sourceSelect),
    el('div', { class: 'field' }, el('label', { attrs: { for: codesMode.id }, text: 'Codes' }), codesMode, groupSelect, codeSelect),
    el('div', { class: 'field' }, el('label', { attrs: { for: unitSelect.id }, text: 'Unit' }), unitSelect),
    overlapField,
    el('div', { class: 'field' }, el('label', { attrs: { for: consensusInput.id }, text: 'Consensus coder (adjudicated codings go here)' }), consensusInput),
    el('div', { class: 'popup-buttons' }, compute),
  );
  const results = el('section', { class: 'agreement-results', attrs: { 'aria-live': 'polite', 'aria-label': 'Agreement' } });
  const viewer = el('section', { class: 'disagreements', attrs: { 'aria-label': 'Disagreements' } });
  append(main, el('h1', { text: 'Agreement between coders' }), form, status.node, results, viewer);

  function syncForm() {
    groupSelect.hidden = codesMode.value !== 'group';
    codeSelect.hidden = codesMode.value !== 'chosen';
    overlapField.hidden = unitSelect.value !== 'segments';
  }
  codesMode.addEventListener('change', syncForm);
  unitSelect.addEventListener('change', syncForm);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run();
  });

  syncForm();
  load();

  async function load() {
    try {
      [coders, sources, codebook] = await Promise.all([apiAll('/coders'), apiAll('/sources'), apiAll('/codebook')]);
    } catch (e) {
      message.show(describeError(e));
      form.hidden = true;
      return;
    }
    for (const c of coders) {
      const box = el('input', { type: 'checkbox', value: c.name, id: uid('coder'), dataset: { coder: c.name } });
      box.checked = c.name !== consensusInput.value && coderBox.querySelectorAll('input:checked').length < 2;
      coderBox.append(el('label', { class: 'check', attrs: { for: box.id } }, box, ` ${c.name} `, el('span', { class: 'meta', text: `(${c.codings} codings)` })));
    }
    if (!coders.length) coderBox.append(el('p', { class: 'hint', text: 'Nobody has coded yet.' }));
    for (const s of sources) sourceSelect.append(el('option', { value: s.id, text: `${s.name} (${s.kind})` }));
    const parents = new Set(codebook.filter((n) => n.code.parent).map((n) => n.code.parent));
    for (const n of codebook) {
      codeSelect.append(el('option', { value: n.code.id, text: n.path }));
      if (parents.has(n.code.id)) groupSelect.append(el('option', { value: n.code.id, text: n.path }));
    }
    syncForm();
  }

  function query() {
    const chosen = [...coderBox.querySelectorAll('input:checked')].map((b) => b.value);
    const q = new URLSearchParams();
    q.set('coders', chosen.join(','));
    const srcs = [...sourceSelect.selectedOptions].map((o) => o.value);
    if (srcs.length) q.set('sources', srcs.join(','));
    if (codesMode.value === 'group') q.set('group', groupSelect.value);
    if (codesMode.value === 'chosen') q.set('codes', [...codeSelect.selectedOptions].map((o) => o.value).join(','));
    const consensus = consensusInput.value.trim();
    if (consensus) q.set('consensus', consensus);
    return { q, chosen };
  }

  async function run() {
    const { q, chosen } = query();
    if (chosen.length < 2) {
      message.show('Choose at least two coders to compare.');
      return;
    }
    if (codesMode.value === 'chosen' && !codeSelect.selectedOptions.length) {
      message.show('Choose the codes to compare, or compare every code the coders used.');
      return;
    }
    const withUnit = new URLSearchParams(q);
    withUnit.set('unit', unitSelect.value);
    if (unitSelect.value === 'segments') withUnit.set('min_overlap', overlapInput.value);
    withUnit.delete('consensus');
    compute.disabled = true;
    message.clear();
    clear(results).append(el('p', { class: 'hint', text: 'Computing…' }));
    try {
      const [report, passages] = await Promise.all([api('GET', `/agreement?${withUnit}`), api('GET', `/disagreements?${q}`)]);
      lastQuery = q;
      renderReport(report);
      renderPassages(passages);
    } catch (e) {
      clear(results);
      message.show(describeError(e));
    } finally {
      compute.disabled = false;
    }
  }

  async function reloadPassages(keepFocusOn) {
    if (!lastQuery) return;
    try {
      renderPassages(await api('GET', `/disagreements?${lastQuery}`));
      if (keepFocusOn) {
        const again = viewer.querySelector(`[data-key="${CSS.escape(keepFocusOn)}"]`);
        if (again) again.focus();
      }
    } catch (e) {
      message.show(describeError(e));
    }
  }

  // ---- the coefficients -------------------------------------------------------------------
  function measureCell(m) {
    if (m.value === null || m.value === undefined) {
      return el('td', { class: 'undefined', attrs: { title: m.undefined_reason || '' } }, 'undefined', el('span', { class: 'meta', text: ` — ${m.undefined_reason || ''}` }));
    }
    return el('td', { class: 'number', text: m.value.toFixed(3), dataset: { value: m.value } });
  }

  function renderReport(report) {
    clear(results);
    const unitText = report.unit === 'characters' || report.unit === 'turns' ? report.unit : `segments (minimum overlap ${report.unit.segments.min_overlap})`;
    results.append(
      el('h2', { text: 'Coefficients' }),
      el('p', { class: 'meta', text: `${report.coders.join(' · ')} on ${report.sources.length} source${report.sources.length === 1 ? '' : 's'}; unit: ${unitText}; ${report.units} units.` }),
      el('p', { class: 'meta contrast-rule', text: report.contrast_rule }),
    );
    if (report.overall.length) {
      const overall = el('table', { class: 'data agreement-overall' }, el('caption', { text: 'Overall' }));
      const tbody = el('tbody');
      for (const m of report.overall) tbody.append(el('tr', {}, el('th', { attrs: { scope: 'row' }, text: m.name }), measureCell(m)));
      overall.append(tbody);
      results.append(overall);
    }
    if (!report.codes.length) {
      results.append(el('p', { class: 'hint', text: 'No code to compare.' }));
      return;
    }
    const names = report.codes[0].measures.map((m) => m.name);
    const table = el('table', { class: 'data agreement-table' }, el('caption', { text: 'Per code' }));
    const head = el('tr', {}, el('th', { attrs: { scope: 'col' }, text: 'Code' }));
    for (const c of report.coders) head.append(el('th', { attrs: { scope: 'col' }, text: `codings: ${c}` }));
    for (const n of names) head.append(el('th', { attrs: { scope: 'col' }, text: n }));
    const tbody = el('tbody');
    for (const row of report.codes) {
      const tr = el('tr', { dataset: { code: row.code } }, el('th', { attrs: { scope: 'row' }, text: row.code }));
      for (const c of report.coders) tr.append(el('td', { class: 'number', text: String(row.codings[c] ?? 0) }));
      for (const m of row.measures) tr.append(measureCell(m));
      tbody.append(tr);
    }
    append(table, el('thead', {}, head), tbody);
    results.append(table);
    if (report.groups && report.groups.length) {
      const groups = el('table', { class: 'data agreement-groups' }, el('caption', { text: 'Per group of sibling codes (meant to be mutually exclusive)' }));
      const ghead = el('tr', {}, el('th', { attrs: { scope: 'col' }, text: 'Group' }), el('th', { attrs: { scope: 'col' }, text: 'Codes' }));
      for (const m of report.groups[0].measures) ghead.append(el('th', { attrs: { scope: 'col' }, text: m.name }));
      const gbody = el('tbody');
      for (const g of report.groups) {
        const tr = el('tr', { dataset: { group: g.group } }, el('th', { attrs: { scope: 'row' }, text: g.group }), el('td', { text: g.codes.join(', ') }));
        for (const m of g.measures) tr.append(measureCell(m));
        gbody.append(tr);
      }
      append(groups, el('thead', {}, ghead), gbody);
      results.append(groups);
    }
  }

  // ---- the disagreement viewer ------------------------------------------------------------
  let showAgreed = false;

  function renderPassages(d) {
    clear(viewer);
    const toggle = el('input', { type: 'checkbox', id: uid('agreed') });
    toggle.checked = showAgreed;
    toggle.addEventListener('change', () => {
      showAgreed = toggle.checked;
      renderPassages(d);
    });
    viewer.append(
      el('h2', { text: 'Disagreements' }),
      el('p', { class: 'meta', dataset: { counts: `${d.missing},${d.boundaries},${d.agreed}` }, text: `${d.missing} passages not coded by every coder, ${d.boundaries} with different stretches, ${d.agreed} agreed. Accepted versions go to the coder “${d.consensus_coder}”.` }),
      el('p', {}, el('label', { class: 'check', attrs: { for: toggle.id } }, toggle, ' show agreed passages too')),
    );
    const total = d.missing + d.boundaries + d.agreed;
    if (d.passages.length < total) {
      viewer.append(el('p', { class: 'hint', text: `Showing the first ${d.passages.length} of ${total} passages, disagreements first; choose fewer sources or codes to see the rest.` }));
    }
    const shown = d.passages.filter((p) => showAgreed || p.difference !== 'agreed');
    if (!shown.length) {
      viewer.append(el('p', { class: 'hint', text: d.passages.length ? 'The coders agree everywhere.' : 'Nothing coded with these codes.' }));
      return;
    }
    for (const p of shown) viewer.append(passageCard(p, d.consensus_coder));
  }

  /** The passage's text with the stretches of `codings` marked. */
  function marked(p, codings, cls) {
    const chars = cpArray(p.text);
    const on = new Array(chars.length).fill(false);
    for (const c of codings) {
      for (let i = Math.max(c.coding.span.start, p.span.start); i < Math.min(c.coding.span.end, p.span.end); i++) on[i - p.span.start] = true;
    }
    const out = el('span', { class: 'passage-text' });
    let i = 0;
    while (i < chars.length) {
      let j = i;
      while (j < chars.length && on[j] === on[i]) j++;
      const piece = chars.slice(i, j).join('');
      out.append(on[i] ? el('mark', { class: cls, text: piece }) : piece);
      i = j;
    }
    return out;
  }

  function passageCard(p, consensusCoder) {
    const key = `${p.source}:${p.code}:${p.span.start}:${p.span.end}`;
    const card = el('article', {
      class: `card passage passage-${p.difference}`,
      attrs: { tabindex: '-1' },
      dataset: { key, code: p.code_path, start: p.span.start, end: p.span.end, difference: p.difference },
    });
    const where = el('a', { href: `${pageBase}/sources/${encodeURIComponent(p.source)}`, text: p.source_name });
    card.append(
      el('h3', {}, `${p.code_path} `, el('span', { class: `badge badge-${p.difference}`, text: DIFFERENCES[p.difference] })),
      el('p', { class: 'meta' }, where, ` · characters ${p.span.start}–${p.span.end}`),
      el('p', { class: 'passage-context' }, el('span', { class: 'meta', text: p.before ? `…${p.before}` : '' }), el('mark', { text: p.text }), el('span', { class: 'meta', text: p.after ? `${p.after}…` : '' })),
    );
    const rows = el('tbody');
    for (const v of p.versions) {
      const instead = v.instead.length ? el('span', { class: 'meta', text: ` instead: ${[...new Set(v.instead.map((c) => c.code_path))].join(', ')}` }) : null;
      const accept = canWrite
        ? el('button', { type: 'button', text: `Accept ${v.coder}’s version`, dataset: { accept: v.coder }, on: { click: () => adjudicate(p, v.coder, key) } })
        : null;
      rows.append(el('tr', { dataset: { coder: v.coder } }, el('th', { attrs: { scope: 'row' }, text: v.coder }), el('td', {}, v.codings.length ? marked(p, v.codings, 'coded') : el('span', { class: 'meta', text: 'not coded here' }), instead), el('td', {}, accept)));
    }
    const consensusCell = p.consensus.length ? marked(p, p.consensus, 'coded consensus') : el('span', { class: 'meta', text: 'nothing yet' });
    rows.append(
      el(
        'tr',
        { class: 'consensus-row', dataset: { coder: consensusCoder } },
        el('th', { attrs: { scope: 'row' }, text: consensusCoder }),
        el('td', {}, consensusCell),
        el('td', {}, p.accepted ? el('span', { class: 'badge badge-open', dataset: { accepted: p.accepted }, text: `${p.accepted}’s version` }) : null),
      ),
    );
    card.append(el('table', { class: 'data versions' }, el('thead', {}, el('tr', {}, el('th', { attrs: { scope: 'col' }, text: 'Coder' }), el('th', { attrs: { scope: 'col' }, text: 'Their version' }), el('th', { attrs: { scope: 'col' }, text: '' }))), rows));

    const discussion = el('div', { class: 'discussion' });
    if (p.discussion.length) {
      discussion.append(el('h4', { text: 'Discussion' }));
      for (const m of p.discussion) {
        discussion.append(el('div', { class: 'memo', dataset: { memoId: m.memo.id } }, el('p', { class: 'meta', text: `${m.memo.title || 'Memo'} · ${m.memo.author} · ${formatDate(m.memo.created_at)}` }), el('p', { class: 'memo-text', text: m.memo.text })));
      }
    }
    if (canWrite) {
      const noteId = uid('note');
      const note = el('textarea', { id: noteId, rows: 2, placeholder: 'What the team decided, and why' });
      const save = el('button', { type: 'button', text: 'Record discussion', dataset: { discuss: '1' } });
      save.addEventListener('click', async () => {
        const text = note.value.trim();
        if (!text) {
          message.show('Write what was discussed first.');
          note.focus();
          return;
        }
        save.disabled = true;
        try {
          await api('POST', '/memos', { on: `source:${p.source}`, title: `Discussion: ${p.code_path}`, text, start: p.span.start, end: p.span.end });
          status.show('Discussion recorded.', 'ok');
          await reloadPassages(key);
        } catch (e) {
          message.show(describeError(e));
          save.disabled = false;
        }
      });
      discussion.append(el('label', { attrs: { for: noteId }, text: 'Discussion memo on this passage' }), note, save);
    }
    card.append(discussion);
    return card;
  }

  async function adjudicate(p, coder, key) {
    try {
      const done = await api('POST', '/consensus', {
        source: p.source,
        code: p.code,
        start: p.span.start,
        end: p.span.end,
        accept: coder,
        replacing: p.consensus.map((c) => ({ id: c.coding.id, version: c.coding.version })),
        consensus: consensusInput.value.trim() || null,
      });
      status.show(`${coder}’s version of ${p.code_path} accepted into ${done.consensus_coder}.`, 'ok');
      await reloadPassages(key);
    } catch (e) {
      message.show(describeError(e));
      if (e.code === 'conflict') await reloadPassages(key);
    }
  }
}

const main = document.querySelector('main#agreement');
if (main) start(main);
