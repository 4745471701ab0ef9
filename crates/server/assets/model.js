// The dyad and the model: the dyads × components matrix (click a cell for the quotes from each
// account, contrast apart), the propositions' support with the model figure, and saturation
// with its stopping rule. Definitions: docs/findings.md.

import { api, apiBase, el, append, clear, messageArea, describeError, safeColour, uid } from './api.js';

const PRESENCE = {
  both: ['both', 'both accounts'],
  'clinician-only': ['C', 'clinician only'],
  'patient-only': ['P', 'patient only'],
  none: ['–', 'no evidence'],
};

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function coderField(onChange) {
  const input = el('input', { type: 'text', id: uid('coder'), autocomplete: 'off', placeholder: 'all coders' });
  input.addEventListener('change', onChange);
  const field = el('div', { class: 'field' }, el('label', { attrs: { for: input.id }, text: 'Coder (empty: every coder; e.g. consensus)' }), input);
  return { input, field };
}

// One quote per coding: `title` says the codings quoted, and `passages` (when given) the
// distinct passages the count beside it stands for, so the list and the cell agree.
function excerptList(title, excerpts, cls, passages) {
  const counted = passages === undefined ? `${excerpts.length} codings` : `${passages} passages, ${excerpts.length} codings`;
  const section = el('section', { class: `excerpts ${cls}`, attrs: { 'aria-label': title } }, el('h3', { text: `${title} (${counted})` }));
  if (!excerpts.length) section.append(el('p', { class: 'muted', text: 'None.' }));
  const list = el('ul');
  for (const e of excerpts) {
    list.append(el('li', {},
      el('blockquote', { text: e.text }),
      el('div', { class: 'muted' }, `${e.code_path} · ${e.source_name} ${e.span.start}–${e.span.end} · ${e.coder}`)));
  }
  section.append(list);
  return section;
}

// ---- /s/{slug}/dyads ------------------------------------------------------------------------
function dyads(main, message) {
  let view = 'counts';
  let matrix = null;
  const { input: coder, field: coderBox } = coderField(() => load());
  const viewSelect = el('select', { id: uid('view') });
  for (const [v, label] of [['counts', 'counts (distinct passages, clinician / patient)'], ['presence', 'present / absent']]) {
    viewSelect.append(el('option', { value: v, text: label }));
  }
  viewSelect.addEventListener('change', () => { view = viewSelect.value; draw(); });
  const controls = el('form', { class: 'card findings-controls', attrs: { 'aria-label': 'Matrix options' }, on: { submit: (e) => e.preventDefault() } },
    el('div', { class: 'field' }, el('label', { attrs: { for: viewSelect.id }, text: 'View' }), viewSelect), coderBox);
  const table = el('div', { class: 'matrix-wrap' });
  const general = el('section', { id: 'general-evidence', attrs: { 'aria-label': 'About no particular patient' } });
  const detail = el('section', { id: 'cell-detail', attrs: { 'aria-live': 'polite', 'aria-label': 'Quotes behind the cell' } });
  // The rule comes with the matrix (docs/findings.md, "Accounts and attribution").
  const rule = el('p', { id: 'accounts-rule', class: 'muted rule' });
  append(main,
    el('h1', { text: 'Dyads × components' }),
    el('p', { class: 'muted', text: 'Evidence of each theory component in the clinician’s and the patient’s account of each dyad. Sub-components count for their parent; overlapping codings count once; contrast codings are shown apart and never counted.' }),
    rule, controls, table, general, detail);

  async function load() {
    message.clear();
    try {
      matrix = await api('GET', `/findings/triangulation${query({ coder: coder.value.trim() })}`);
      rule.textContent = matrix.rule_text;
      draw();
      clear(detail);
    } catch (e) {
      message.show(describeError(e));
    }
  }

  function draw() {
    clear(table);
    if (!matrix) return;
    if (!matrix.components.length) {
      table.append(el('p', { text: 'The study has no theory: nothing to triangulate.' }));
      return;
    }
    const head = el('tr', {}, el('th', { text: 'Component', attrs: { scope: 'col' } }));
    for (const d of matrix.dyads) head.append(el('th', { text: d.label, attrs: { scope: 'col', title: `${d.clinician} and ${d.patient}` } }));
    const body = el('tbody');
    matrix.components.forEach((c, ci) => {
      const row = el('tr', { class: `depth-${Math.min(c.depth, 3)}` },
        el('th', { attrs: { scope: 'row' }, style: { 'border-left': `4px solid ${safeColour(c.colour)}` } }, c.name));
      matrix.dyads.forEach((d, di) => {
        const cell = matrix.cells[di][ci];
        const [short, long] = PRESENCE[cell.presence];
        const contrast = cell.clinician.contrast_passages + cell.patient.contrast_passages;
        const shown = view === 'counts' ? `${cell.clinician.passages}/${cell.patient.passages}` : short;
        const button = el('button', {
          type: 'button',
          class: `cell presence-${cell.presence}`,
          text: shown,
          dataset: { dyad: d.label, component: c.id },
          attrs: { 'aria-label': `${d.label}, ${c.name}: ${long}; clinician ${cell.clinician.passages}, patient ${cell.patient.passages} passages${contrast ? `; ${contrast} contrast` : ''}` },
          on: { click: () => showCell(d, c) },
        });
        if (contrast) button.append(el('sup', { class: 'contrast-mark', text: '†', attrs: { title: `${contrast} contrast passages` } }));
        row.append(el('td', {}, button));
      });
      body.append(row);
    });
    table.append(el('table', { class: 'data matrix' }, el('thead', {}, head), body),
      el('p', { class: 'muted', text: view === 'counts' ? 'Cells: clinician / patient passages. † contrast passages (not evidence).' : 'both: both accounts; C: clinician only; P: patient only; –: none. † contrast passages (not evidence).' }));
    drawGeneral();
  }

  // Participants' passages attributed to no dyad: participants × top-level components.
  function drawGeneral() {
    clear(general);
    if (!matrix.general.length) return;
    const tops = matrix.components.map((c, ci) => [c, ci]).filter(([c]) => c.depth === 0);
    const head = el('tr', {}, el('th', { text: 'Participant', attrs: { scope: 'col' } }));
    for (const [c] of tops) head.append(el('th', { text: c.name, attrs: { scope: 'col' } }));
    const body = el('tbody');
    for (const g of matrix.general) {
      const row = el('tr', {}, el('th', { attrs: { scope: 'row' }, text: `${g.participant} (${g.role})` }));
      for (const [c, ci] of tops) {
        const e = g.cells[ci];
        row.append(el('td', {}, el('button', {
          type: 'button', class: 'cell general', text: String(e.passages),
          dataset: { participant: g.participant, component: c.id },
          attrs: { 'aria-label': `${g.participant}, ${c.name}: ${e.passages} passages about no particular patient` },
          on: { click: () => showGeneral(g, c) },
        })));
      }
      body.append(row);
    }
    append(general, el('h2', { text: 'About no particular patient' }),
      el('p', { class: 'muted', text: 'Passages attributed to no dyad (a clinician speaking of their patients in general), per top-level component: never counted in the matrix above.' }),
      el('table', { class: 'data matrix general' }, el('thead', {}, head), body));
  }

  async function showGeneral(g, c) {
    message.clear();
    try {
      const x = await api('GET', `/findings/triangulation/general${query({ participant: g.participant, component: c.id, coder: coder.value.trim() })}`);
      clear(detail);
      append(detail,
        el('h2', { text: `${x.participant} × ${x.component.name}: about no particular patient` }),
        el('div', { class: 'accounts' },
          excerptList('Passages (counted for no dyad)', x.excerpts.evidence, 'general', x.excerpts.passages),
          excerptList('Contrast (not evidence)', x.excerpts.contrast, 'contrast-general', x.excerpts.contrast_passages)));
      detail.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      message.show(describeError(e));
    }
  }

  async function showCell(d, c) {
    message.clear();
    try {
      const x = await api('GET', `/findings/triangulation/cell${query({ dyad: d.label, component: c.id, coder: coder.value.trim() })}`);
      clear(detail);
      append(detail,
        el('h2', { text: `${x.dyad.label} × ${x.component.name}: ${PRESENCE[x.presence][1]}` }),
        el('div', { class: 'accounts' },
          excerptList(`Clinician’s account (${x.dyad.clinician})`, x.clinician.evidence, 'clinician', x.clinician.passages),
          excerptList(`Patient’s account (${x.dyad.patient})`, x.patient.evidence, 'patient', x.patient.passages)),
        el('div', { class: 'accounts contrast' },
          excerptList('Contrast, clinician (not evidence)', x.clinician.contrast, 'contrast-clinician', x.clinician.contrast_passages),
          excerptList('Contrast, patient (not evidence)', x.patient.contrast, 'contrast-patient', x.patient.contrast_passages)),
        el('div', { class: 'accounts others' },
          excerptList('Other sources about the dyad (not counted)', x.others.evidence, 'others', x.others.passages)));
      detail.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      message.show(describeError(e));
    }
  }

  load();
}

// ---- /s/{slug}/model ------------------------------------------------------------------------
function model(main, message) {
  const { input: coder, field: coderBox } = coderField(() => load());
  const ruleSelect = el('select', { id: uid('rule') });
  for (const [v, label] of [['any', 'any of its components is evidenced'], ['all', 'every one of its components is evidenced']]) {
    ruleSelect.append(el('option', { value: v, text: label }));
  }
  ruleSelect.addEventListener('change', () => load());
  const togetherSelect = el('select', { id: uid('together') });
  for (const [v, label] of [['', 'anywhere in the dyad’s accounts'], ['overlap', 'together: in overlapping passages'], ['turn', 'together: in the same turn'], ['near', 'together: within N characters']]) {
    togetherSelect.append(el('option', { value: v, text: label }));
  }
  const within = el('input', { type: 'number', id: uid('within'), min: '0', step: '1', value: '200' });
  const fromPatient = el('input', { type: 'checkbox', id: uid('from-patient') });
  for (const input of [togetherSelect, within, fromPatient]) input.addEventListener('change', () => load());
  const controls = el('form', { class: 'card findings-controls', attrs: { 'aria-label': 'Support options' }, on: { submit: (e) => e.preventDefault() } },
    el('div', { class: 'field' }, el('label', { attrs: { for: ruleSelect.id }, text: 'A side of a proposition is evidenced in a dyad when' }), ruleSelect),
    el('div', { class: 'field' }, el('label', { attrs: { for: togetherSelect.id }, text: 'Both sides' }), togetherSelect),
    el('div', { class: 'field' }, el('label', { attrs: { for: within.id }, text: 'N (characters, for “within N”)' }), within),
    el('div', { class: 'field' }, fromPatient, el('label', { attrs: { for: fromPatient.id }, text: ' the target side from the patient’s account' })),
    coderBox);
  const readingParams = () => ({
    rule: ruleSelect.value,
    together: togetherSelect.value === 'near' ? `near:${within.value || 0}` : togetherSelect.value,
    target_from_patient: fromPatient.checked ? 'true' : '',
    coder: coder.value.trim(),
  });
  const tableBox = el('div', { class: 'propositions' });
  const detail = el('section', { id: 'proposition-detail', attrs: { 'aria-live': 'polite', 'aria-label': 'Quotes behind a proposition' } });
  // The model as its theory states it, then weighted by this study's evidence.
  const figure = el('img', { id: 'model-figure', alt: 'The model: components in columns by kind, propositions numbered as in the table' });
  const download = el('a', { id: 'model-figure-download', text: 'Download the model (SVG)', attrs: { download: 'model.svg' } });
  const evidenceFigure = el('img', { id: 'model-evidence-figure', alt: 'The model weighted by evidence: components sized by the dyads that evidence them, propositions by the dyads that support them' });
  const evidenceDownload = el('a', { id: 'model-evidence-figure-download', text: 'Download the evidence figure (SVG)', attrs: { download: 'model-evidence.svg' } });
  append(main, el('h1', { text: 'The model’s evidence' }), controls, tableBox, detail,
    el('figure', { class: 'model-figure card' }, figure, el('figcaption', {}, download)),
    el('figure', { class: 'model-figure card' }, evidenceFigure, el('figcaption', {}, evidenceDownload)));

  async function load() {
    message.clear();
    const q = query(readingParams());
    figure.src = `${apiBase}/findings/figure.svg${q}`;
    download.href = figure.src;
    evidenceFigure.src = `${apiBase}/findings/figure.svg${query({ view: 'evidence', ...readingParams() })}`;
    evidenceDownload.href = evidenceFigure.src;
    try {
      const s = await api('GET', `/findings/propositions${q}`);
      clear(tableBox);
      clear(detail);
      if (!s.propositions.length) {
        tableBox.append(el('p', { text: 'The study’s theory states no propositions.' }));
        return;
      }
      const body = el('tbody');
      for (const p of s.propositions) {
        const dyadCell = el('td', { class: 'dyad-list' });
        for (const d of p.dyads) {
          dyadCell.append(el('button', {
            type: 'button', class: `link-button standing-${d.standing}`, text: d.dyad,
            attrs: { title: `${d.standing.replaceAll('-', ' ')}${d.source_contrast_passages + d.target_contrast_passages ? `; counter-evidence: ${d.source_contrast_passages} source, ${d.target_contrast_passages} target contrast passages` : ''}` },
            on: { click: () => showDyad(p, d.dyad) },
          }), ' ');
        }
        body.append(el('tr', {},
          el('th', { attrs: { scope: 'row' }, text: `P${p.number}` }),
          el('td', { text: `${p.from_names.join(' + ')} → ${p.to_names.join(' + ')}` }),
          el('td', { text: `${p.relation}${p.basis === 'project assumption' ? ' (project assumption)' : ''}` }),
          el('td', { class: 'number', text: String(p.both) }),
          el('td', { class: 'number', text: String(p.apart) }),
          el('td', { class: 'number', text: String(p.source_only) }),
          el('td', { class: 'number', text: String(p.target_only) }),
          el('td', { class: 'number', text: String(p.neither) }),
          el('td', { class: 'number counter-evidence', text: String(p.contrast_dyads) }),
          dyadCell));
      }
      const head = el('tr', {});
      for (const h of ['', 'Proposition', 'Relation', 'Both sides', 'Both, not together', 'Source only', 'Target only', 'Neither', 'Counter-evidence', 'Dyads (click for quotes)']) head.append(el('th', { text: h, attrs: { scope: 'col' } }));
      tableBox.append(el('table', { class: 'data propositions-table' }, el('thead', {}, head), body),
        el('p', { class: 'muted', text: `Counts are dyads (of ${s.dyad_count}). “Both, not together”: both sides evidenced, not together as asked. Counter-evidence: dyads with a contrast passage of either side in their own accounts.` }),
        el('p', { id: 'support-rule', class: 'muted rule', text: `Rule: ${s.rule_text}` }));
    } catch (e) {
      message.show(describeError(e));
    }
  }

  async function showDyad(p, dyad) {
    message.clear();
    try {
      const x = await api('GET', `/findings/propositions/excerpts${query({ number: p.number, dyad, ...readingParams() })}`);
      clear(detail);
      append(detail, el('h2', { text: `P${x.number} in ${x.dyad}: ${x.standing.replaceAll('-', ' ')}` }),
        el('div', { class: 'accounts' },
          excerptList(`Source side: ${p.from_names.join(' + ')}`, x.source, 'source'),
          excerptList(`Target side: ${p.to_names.join(' + ')}`, x.target, 'target')),
        el('div', { class: 'accounts contrast' },
          excerptList('Counter-evidence, source side (contrast)', x.source_contrast, 'contrast-source'),
          excerptList('Counter-evidence, target side (contrast)', x.target_contrast, 'contrast-target')),
        el('p', { class: 'muted rule', text: `Rule: ${x.rule_text}` }));
    } catch (e) {
      message.show(describeError(e));
    }
  }

  load();
}

// ---- /s/{slug}/saturation -------------------------------------------------------------------
function saturation(main, message) {
  const { input: coder, field: coderBox } = coderField(() => load());
  const method = el('select', { id: uid('method') });
  for (const [v, label] of [['consecutive', 'consecutive coded interviews without new codes'], ['guest', 'Guest, Namey & Chen 2020: base, run, new-information threshold']]) method.append(el('option', { value: v, text: label }));
  const k = el('input', { type: 'number', id: uid('k'), min: '1', step: '1', value: '3' });
  const fewer = el('input', { type: 'number', id: uid('fewer'), min: '1', step: '1', value: '1' });
  const base = el('input', { type: 'number', id: uid('base'), min: '1', step: '1', value: '4' });
  const run = el('input', { type: 'number', id: uid('run'), min: '1', step: '1', value: '2' });
  const threshold = el('input', { type: 'number', id: uid('threshold'), min: '0', max: '99', step: '0.5', value: '5' });
  for (const input of [method, k, fewer, base, run, threshold]) input.addEventListener('change', () => load());
  const field = (input, text) => el('div', { class: 'field' }, el('label', { attrs: { for: input.id }, text }), input);
  const consecutiveFields = [field(k, 'k: consecutive coded interviews looked at'), field(fewer, 'they bring fewer than this many new codes (1: none)')];
  const guestFields = [field(base, 'base: the first coded interviews'), field(run, 'run: coded interviews after the stopping point'), field(threshold, 'new-information threshold: new codes in the run at most this % of the base’s codes')];
  const controls = el('form', { class: 'card findings-controls', attrs: { 'aria-label': 'Stopping rule' }, on: { submit: (e) => { e.preventDefault(); load(); } } },
    field(method, 'Stopping rule'),
    ...consecutiveFields, ...guestFields,
    coderBox,
    el('div', { class: 'popup-buttons' }, el('button', { type: 'submit', class: 'primary', text: 'Apply' })));
  const verdict = el('p', { id: 'saturation-verdict', class: 'verdict', attrs: { 'aria-live': 'polite' } });
  const chart = el('img', { id: 'saturation-chart', alt: 'Saturation chart: codes introduced per interview in the order conducted' });
  const download = el('a', { text: 'Download the chart (SVG)', attrs: { download: 'saturation.svg' } });
  const tableBox = el('div', { class: 'saturation-table' });
  append(main, el('h1', { text: 'Saturation' }), controls, verdict,
    el('figure', { class: 'card' }, chart, el('figcaption', {}, download)), tableBox);

  async function load() {
    message.clear();
    const guest = method.value === 'guest';
    for (const f of consecutiveFields) f.hidden = guest;
    for (const f of guestFields) f.hidden = !guest;
    const q = query(guest
      ? { method: 'guest', base: base.value, run: run.value, threshold: threshold.value === '' ? '' : Number(threshold.value) / 100, coder: coder.value.trim() }
      : { k: k.value, fewer_than: fewer.value, coder: coder.value.trim() });
    try {
      const s = await api('GET', `/findings/saturation${q}`);
      chart.src = `${apiBase}/findings/saturation.svg${q}`;
      download.href = chart.src;
      const v = s.verdict;
      // The library's own words; green only for a verdict nothing later contradicts.
      verdict.textContent = s.statement;
      const contradicted = v.status === 'reached' && v.contradicted_by.length > 0;
      verdict.className = `verdict verdict-${contradicted ? 'contradicted' : v.status}`;
      const head = el('tr', {});
      for (const h of ['#', 'Date', 'Interview', 'Who', 'Codings', 'New codes', 'Total', 'Clinicians', 'Patients', 'Introduced']) head.append(el('th', { text: h, attrs: { scope: 'col' } }));
      const body = el('tbody');
      for (const i of s.interviews) {
        const row = el('tr', { class: [!i.coded ? 'uncoded' : '', v.status === 'reached' && i.position === v.at ? 'stopping-point' : ''].join(' ').trim() },
          el('td', { class: 'number', text: String(i.position) }),
          el('td', { text: i.date || '–' }),
          el('td', { text: i.name }),
          el('td', { text: i.participant ? `${i.participant} (${i.role})` : '–' }),
          el('td', { class: 'number', text: i.coded ? String(i.codings) : 'not coded yet' }),
          el('td', { class: 'number', text: String(i.new_codes.length) }),
          el('td', { class: 'number', text: String(i.cumulative) }),
          el('td', { class: 'number', text: String(i.clinicians) }),
          el('td', { class: 'number', text: String(i.patients) }),
          el('td', { class: 'introduced', text: i.new_codes.join('; ') }));
        body.append(row);
      }
      clear(tableBox);
      tableBox.append(el('table', { class: 'data' }, el('thead', {}, head), body));
    } catch (e) {
      message.show(describeError(e));
    }
  }

  load();
}

const main = document.getElementById('model-findings');
if (main) {
  const message = messageArea(main);
  const pages = { dyads, model, saturation };
  (pages[main.dataset.page] || dyads)(main, message);
}
