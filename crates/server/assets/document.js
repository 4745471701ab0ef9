// The document view: a transcript as speaker turns with its codings highlighted, a margin of
// coding brackets, coding by selection (mouse or keyboard), editing codings, undo, and live
// updates from other coders.
//
// Offsets are code points into the full source text. Every rendered piece of text is a
// `span.seg` with `data-start`/`data-end` (code points); the text between turns (speaker labels,
// blank lines) is kept in hidden `span.gap` elements so that the marks of a coding always hold
// exactly the coded text, but it is never shown.

import {
  api, apiAll, apiBase, page, canWrite, isBlinded, isOwner, pageBase, el, append, clear, messenger, describeError, cpLength, cpToUtf16,
  formatMs, formatDate, safeColour, debounce, uid,
} from './api.js';
import { mountCodebook, loadCodebook, swatch, countText } from './codebook.js';

const main = document.querySelector('main#document');
if (main) start(main);

function start(main) {
  const sourceId = main.dataset.source;
  const aside = document.querySelector('aside#codebook-panel');

  // ---- state ------------------------------------------------------------------------------
  let source = null;
  let chars = []; // the source text as code points
  let codings = []; // CodingView[]
  let codebook = []; // codebook nodes
  let codeById = new Map();
  const hiddenCoders = new Set();
  let segIndex = []; // visible segments in text order: {el, start, end}
  let codingMarks = new Map(); // coding id → visible marks in order
  let selectedCodingId = null;
  let lastSelection = null; // {start, end} of the last non-empty selection in the transcript
  let pointerDown = false;
  let refreshPending = false;
  let codebookPanel = null;

  // ---- skeleton ---------------------------------------------------------------------------
  clear(main);
  const header = el('header', { class: 'doc-header' });
  // The page may already have the alert area (outside main); otherwise it is made here.
  const existingMessage = document.getElementById('message');
  const messageNode = existingMessage || el('div', { id: 'message', class: 'message', attrs: { role: 'alert', 'aria-live': 'assertive' } });
  const statusNode = el('div', { id: 'status', class: 'message', attrs: { role: 'status', 'aria-live': 'polite' } });
  const message = messenger(messageNode);
  const status = messenger(statusNode);
  const toolbar = el('div', { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Document tools' } });
  const howTo = el('p', {
    id: uid('transcript-help'),
    class: 'visually-hidden',
    text: canWrite
      ? 'Select text with the mouse, or with Shift and the arrow keys, then press C to code it. Tab moves through the highlighted codings; Enter opens one. Ctrl+Z undoes your last change.'
      : 'Read only. Tab moves through the highlighted codings; Enter opens one.',
  });
  const transcript = el('div', {
    class: 'transcript',
    tabIndex: 0,
    attrs: { role: 'region', 'aria-label': 'Transcript', 'aria-describedby': howTo.id },
  });
  const margin = el('div', { class: 'margin', attrs: { 'aria-label': 'Coding brackets', role: 'group' } });
  const descriptions = el('div', { class: 'descriptions', hidden: true });
  const tooltip = el('div', { class: 'tooltip', attrs: { 'aria-hidden': 'true' }, hidden: true });
  const docBody = el('div', { class: 'doc-body' }, transcript, margin);
  const mediaBar = el('section', { class: 'media-bar', hidden: true, attrs: { 'aria-label': 'Recording' } });
  append(main, header, mediaBar, toolbar, existingMessage ? null : messageNode, statusNode, howTo, docBody, descriptions);
  document.body.append(tooltip);
  transcript.append(el('p', { class: 'hint', text: 'Loading the transcript…' }));

  // ---- loading ----------------------------------------------------------------------------
  load();

  async function load() {
    try {
      const [s, c, cb] = await Promise.all([
        api('GET', `/sources/${encodeURIComponent(sourceId)}`),
        apiAll(`/sources/${encodeURIComponent(sourceId)}/codings`),
        loadCodebook(),
      ]);
      source = s;
      chars = Array.from(source.text);
      codings = c;
      setCodebook(cb);
    } catch (e) {
      clear(transcript).append(el('p', { class: 'hint', text: 'The document could not be loaded.' }));
      message.show(describeError(e));
      return;
    }
    renderHeader();
    renderMedia();
    renderToolbar();
    renderTranscript();
    if (aside) {
      codebookPanel = mountCodebook(aside, { compact: true, data: codebook, onChange: () => reloadAll() });
    }
    goToHash();
    connectEvents();
  }

  function setCodebook(cb) {
    codebook = cb;
    codeById = new Map(cb.map((n) => [n.code.id, n]));
  }

  async function reloadAll() {
    try {
      setCodebook(await loadCodebook());
    } catch (e) {
      message.show(describeError(e));
    }
    await refreshCodings();
  }

  /** Re-reads this source's codings and redraws, keeping scroll, selection and focus. */
  async function refreshCodings() {
    if (pointerDown) {
      refreshPending = true;
      return;
    }
    try {
      codings = await apiAll(`/sources/${encodeURIComponent(sourceId)}/codings`);
    } catch (e) {
      message.show(describeError(e));
      return;
    }
    // Codes may have been added by others: make sure every code is known.
    if (codings.some((v) => !codeById.has(v.coding.code))) {
      try {
        setCodebook(await loadCodebook());
      } catch (e) {
        /* the code path from the view is enough */
      }
    }
    redraw();
    refreshCodebookSoon();
  }

  const refreshCodebookSoon = debounce(() => {
    if (codebookPanel) codebookPanel.refresh();
  }, 400);

  function redraw() {
    const scrollX = window.scrollX;
    const scrollY = window.scrollY;
    const sel = currentSelectionOffsets();
    const active = document.activeElement;
    const focusedCoding = active && active.matches && active.matches('mark.coding') ? active.dataset.codingId : null;
    const focusedBracket = active && active.matches && active.matches('.bracket') ? active.dataset.codingId : null;
    const typing = active && (/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) || active.isContentEditable);
    renderToolbar();
    renderTranscript();
    // Put the text selection back (not while someone types in a field: that would take focus).
    if (sel && !typing) restoreSelection(sel);
    if (focusedCoding) focusCoding(focusedCoding, false);
    else if (focusedBracket) {
      const b = margin.querySelector(`.bracket[data-coding-id="${CSS.escape(focusedBracket)}"]`);
      if (b) b.focus({ preventScroll: true });
    }
    window.scrollTo(scrollX, scrollY);
    if (panel.open) panel.update();
  }

  // ---- header -----------------------------------------------------------------------------
  function renderHeader() {
    clear(header);
    const kind = source.kind || 'source';
    const title = el('h1', {}, el('span', { text: source.name }), ' ', el('span', { class: 'badge badge-kind', text: kind.replace('-', ' ') }));
    if (source.blind) {
      title.append(' ', el('span', { class: 'badge badge-blind', text: isBlinded ? 'Blind — you see only your own codings' : 'Blind — coders see only their own codings' }));
    }
    header.append(title);
    if (isOwner) {
      const blindId = uid('blind');
      const blindBox = el('input', { type: 'checkbox', id: blindId, checked: !!source.blind });
      blindBox.addEventListener('change', async () => {
        try {
          await api('PUT', '/blind', { source: sourceId, blind: blindBox.checked });
          source.blind = blindBox.checked;
          renderHeader();
          status.show(blindBox.checked ? 'Blind coding is on for this source: coders now see only their own codings.' : 'Blind coding is off for this source.', 'ok');
          const again = header.querySelector('.blind-toggle input');
          if (again) again.focus();
        } catch (e) {
          blindBox.checked = !blindBox.checked;
          message.show(describeError(e));
        }
      });
      header.append(el('p', { class: 'blind-toggle' }, blindBox, el('label', { attrs: { for: blindId }, text: 'Blind coding for this source (coders see only their own codings)' })));
    }
    const facts = el('dl', { class: 'facts' });
    const fact = (label, value) => {
      if (value === null || value === undefined || value === '') return;
      facts.append(el('div', {}, el('dt', { text: label }), el('dd', {}, value)));
    };
    fact('Participant', source.participant);
    fact('Dyad', source.dyad);
    const iv = source.interview || {};
    fact('Interview date', iv.date);
    fact('Interviewer', iv.interviewer);
    if (iv.duration_minutes) fact('Duration', `${iv.duration_minutes} min`);
    if (iv.guide_version) fact('Guide', iv.guide_version);
    if (iv.consent_recorded !== null && iv.consent_recorded !== undefined) fact('Consent recorded', iv.consent_recorded ? 'yes' : 'no');
    if (kind === 'interview' || (iv.others_present && iv.others_present.length)) {
      const others = iv.others_present && iv.others_present.length ? iv.others_present.join(', ') : 'none noted';
      const dd = el('span', { class: iv.others_present && iv.others_present.length ? 'others-present' : '' }, others);
      fact('Others present', dd);
    }
    const speakers = (source.speakers || []).map((s) => `${s.label} (${s.role})`).join(', ');
    fact('Speakers', speakers);
    header.append(facts);
    if (kind === 'interview' || kind === 'encounter') header.append(verificationLine());
    header.append(
      el('p', { class: 'header-links' }, el('a', { href: `${pageBase}/memos?on=${encodeURIComponent('source:' + sourceId)}`, text: 'Memos about this source' })),
    );
  }

  /** Who checked the transcript against its recording, and a button to record a check. */
  function verificationLine() {
    const v = source.verification;
    const line = el('p', { class: 'verification', dataset: { verified: v ? 'yes' : 'no' } });
    line.append(
      v
        ? el('span', { text: `Checked against the recording by ${v.verified_by}, ${formatDate(v.verified_at)}${v.note ? ` — ${v.note}` : ''}` })
        : el('span', { class: 'badge badge-blind', text: 'Not yet checked against its recording' }),
    );
    if (canWrite) {
      const check = el('button', { type: 'button', class: 'link-button', text: v ? 'Record another check' : 'Mark as checked against the recording' });
      check.addEventListener('click', async () => {
        check.disabled = true;
        try {
          source.verification = await api('POST', `/sources/${encodeURIComponent(sourceId)}/verification`, { note: '' });
          renderHeader();
          status.show('Recorded: you checked this transcript against its recording.', 'ok');
        } catch (e) {
          message.show(describeError(e));
          check.disabled = false;
        }
      });
      line.append(' ', check);
    }
    return line;
  }

  // ---- recording ----------------------------------------------------------------------------
  // A linked recording plays above the transcript; a turn's time seeks it, playback marks the
  // turn being heard, and that turn can be coded in one step.
  let player = null;
  let currentTurn = null;

  function renderMedia() {
    clear(mediaBar);
    player = null;
    mediaBar.hidden = !source.media;
    if (!source.media) return;
    player = el(source.media.video ? 'video' : 'audio', {
      class: 'player',
      controls: true,
      preload: 'metadata',
      src: `${apiBase}/sources/${encodeURIComponent(sourceId)}/media`,
      attrs: { 'aria-label': `Recording of ${source.name}` },
    });
    player.addEventListener('timeupdate', followPlayback);
    player.addEventListener('seeked', followPlayback);
    player.addEventListener('error', () => message.show('The recording could not be played: it may have moved since it was linked.'));
    mediaBar.append(player);
    if (canWrite) {
      const codeTurn = el('button', { type: 'button', class: 'code-turn', text: 'Code the current turn' });
      codeTurn.addEventListener('click', () => {
        if (!currentTurn) {
          message.show('Play the recording, or click a turn’s time, to choose the current turn.', 'info');
          return;
        }
        openPicker({ start: currentTurn.span.start, end: currentTurn.span.end });
      });
      mediaBar.append(codeTurn);
    }
  }

  /** The turn being heard at `ms`: the latest one started that has not ended, else the latest started. */
  function turnAt(ms) {
    let started = null;
    let running = null;
    for (const t of source.turns || []) {
      if (t.start_ms === null || t.start_ms === undefined || t.start_ms > ms) continue;
      if (!started || t.start_ms >= started.start_ms) started = t;
      if ((t.end_ms === null || t.end_ms === undefined || ms < t.end_ms) && (!running || t.start_ms >= running.start_ms)) running = t;
    }
    return running || started;
  }

  function followPlayback() {
    const turn = turnAt(player.currentTime * 1000);
    if (turn === currentTurn) return;
    currentTurn = turn;
    markCurrentTurn();
  }

  function markCurrentTurn() {
    for (const node of transcript.querySelectorAll('.turn-current')) {
      node.classList.remove('turn-current');
      node.removeAttribute('aria-current');
    }
    if (!currentTurn) return;
    const node = transcript.querySelector(`.turn[data-turn-start="${currentTurn.span.start}"]`);
    if (node) {
      node.classList.add('turn-current');
      node.setAttribute('aria-current', 'true');
    }
  }

  function seek(turn) {
    if (!player || turn.start_ms === null || turn.start_ms === undefined) return;
    player.currentTime = turn.start_ms / 1000;
    currentTurn = turn;
    markCurrentTurn();
  }

  // ---- toolbar ----------------------------------------------------------------------------
  const undoButton = el('button', { type: 'button', class: 'undo', attrs: { 'aria-keyshortcuts': 'Control+Z', 'aria-disabled': 'true' } }, 'Undo');
  const undoLabel = el('span', { class: 'undo-label', id: uid('undo-label'), text: 'Nothing to undo' });
  undoButton.setAttribute('aria-describedby', undoLabel.id);
  undoButton.addEventListener('click', () => undo());
  const codeButton = el('button', { type: 'button', attrs: { 'aria-keyshortcuts': 'C' }, text: 'Code selection (C)' });
  codeButton.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the text selection
  codeButton.addEventListener('click', () => openPickerFromSelection(true));
  const liveNode = el('span', { class: 'live', text: 'Live', title: 'Codings by others appear here as they are made' });
  const coderBox = el('fieldset', { class: 'coder-filter' });

  let toolbarBuilt = false;

  function renderToolbar() {
    if (!toolbarBuilt) {
      toolbarBuilt = true;
      if (canWrite) append(toolbar, codeButton, undoButton, undoLabel);
      else toolbar.append(el('span', { class: 'badge', text: 'Read only (auditor)' }));
      toolbar.append(coderBox, liveNode);
      const keys = canWrite
        ? [
            ['Shift + arrows', 'select text (with Ctrl: by words)'],
            ['C', 'code the selection'],
            ['Tab / Shift + Tab', 'move between highlights'],
            ['Enter', 'open the focused coding'],
            ['Ctrl + Z', 'undo your last change'],
            ['Esc', 'close a popup'],
          ]
        : [
            ['Tab / Shift + Tab', 'move between highlights'],
            ['Enter', 'open the focused coding'],
            ['Esc', 'close a popup'],
          ];
      toolbar.append(
        el(
          'details',
          { class: 'keys-help' },
          el('summary', { text: 'Keys' }),
          el('dl', {}, keys.map(([k, what]) => el('div', {}, el('dt', {}, el('kbd', { text: k })), el('dd', { text: what })))),
        ),
      );
    }
    // Who coded what, with a toggle per coder; focus stays on the same coder's box.
    const active = document.activeElement;
    const focusedCoder = active && coderBox.contains(active) ? active.dataset.coder : null;
    clear(coderBox);
    const counts = new Map();
    for (const v of codings) counts.set(v.coding.coder, (counts.get(v.coding.coder) || 0) + 1);
    coderBox.append(el('legend', { text: `Codings (${codings.length}) by` }));
    if (counts.size === 0) coderBox.append(el('span', { class: 'hint', text: 'nobody yet' }));
    for (const [coder, n] of [...counts.entries()].sort()) {
      const id = uid('coder');
      const box = el('input', { type: 'checkbox', id, checked: !hiddenCoders.has(coder), dataset: { coder } });
      box.addEventListener('change', () => {
        if (box.checked) hiddenCoders.delete(coder);
        else hiddenCoders.add(coder);
        renderTranscript();
      });
      coderBox.append(el('span', { class: 'coder-toggle' }, box, el('label', { attrs: { for: id }, text: `${coder} (${n})` })));
      if (focusedCoder === coder) box.focus({ preventScroll: true });
    }
    updateUndoButton();
  }

  // ---- transcript -------------------------------------------------------------------------
  function roleOf(label) {
    const sp = (source.speakers || []).find((s) => s.label === label);
    return sp ? sp.role : null;
  }

  function visibleCodings() {
    return codings
      .filter((v) => !hiddenCoders.has(v.coding.coder))
      .sort((a, b) => a.coding.span.start - b.coding.span.start || b.coding.span.end - a.coding.span.end || (a.coding.id < b.coding.id ? -1 : 1));
  }

  function colourOf(view) {
    const node = codeById.get(view.coding.code);
    return safeColour(node ? node.code.colour : null);
  }

  function nameOf(view) {
    const node = codeById.get(view.coding.code);
    if (node) return node.code.name;
    const parts = (view.code_path || '').split('/');
    return parts[parts.length - 1] || 'code';
  }

  function pathOf(view) {
    const node = codeById.get(view.coding.code);
    return view.code_path || (node ? node.path : nameOf(view));
  }

  function describe(view) {
    const c = view.coding;
    const lines = [pathOf(view), `Coded by ${c.coder}`];
    if (c.contrast) lines.push('Contrast case (evidence of what the code is not)');
    if (c.memo) lines.push(`Memo: ${c.memo}`);
    return lines.join('\n');
  }

  function renderTranscript() {
    const turns = (source.turns && source.turns.length ? [...source.turns] : [{ span: { start: 0, end: chars.length }, speaker: null }])
      .sort((a, b) => a.span.start - b.span.start);
    const views = visibleCodings();
    const frag = document.createDocumentFragment();
    segIndex = [];
    codingMarks = new Map();
    const firstMarkDone = new Set();
    clear(descriptions);
    for (const v of views) {
      descriptions.append(el('div', { id: `coding-desc-${v.coding.id}`, text: describe(v) }));
    }

    // Regions of the text in order: turns (shown) and the gaps between them (hidden).
    let pos = 0;
    const regions = [];
    for (const t of turns) {
      const s = Math.max(t.span.start, pos);
      const e = Math.max(t.span.end, s);
      if (s > pos) regions.push({ start: pos, end: s, turn: null });
      regions.push({ start: s, end: e, turn: t });
      pos = e;
    }
    if (pos < chars.length) regions.push({ start: pos, end: chars.length, turn: null });

    for (const region of regions) {
      const visible = !!region.turn;
      const container = visible
        ? el('div', { class: 'turn-text', dataset: { start: region.start, end: region.end } })
        : el('span', { class: 'gap', hidden: true, dataset: { start: region.start, end: region.end } });
      fillSegments(container, region.start, region.end, views, visible, firstMarkDone);
      if (visible) frag.append(turnBlock(region.turn, container));
      else frag.append(container);
    }
    transcript.replaceChildren(frag);
    transcript.classList.toggle('no-codings', views.length === 0);
    markCurrentTurn();
    layoutBrackets();
  }

  function turnBlock(turn, textNode) {
    const role = turn.speaker ? roleOf(turn.speaker) : null;
    const block = el('div', { class: `turn role-${role || (turn.speaker ? 'other' : 'none')}`, dataset: { turnStart: turn.span.start } });
    if (turn.speaker || turn.start_ms !== null && turn.start_ms !== undefined) {
      const head = el('div', { class: 'turn-head' });
      if (turn.speaker) {
        head.append(el('span', { class: 'speaker', text: turn.speaker }));
        head.append(' ', el('span', { class: 'role-tag', text: role || 'speaker' }));
      }
      if (turn.start_ms !== null && turn.start_ms !== undefined) {
        head.append(
          ' ',
          player
            ? el('button', { type: 'button', class: 'ts seek', text: formatMs(turn.start_ms), attrs: { 'aria-label': `Play from ${formatMs(turn.start_ms)}` }, on: { click: () => seek(turn) } })
            : el('span', { class: 'ts', text: formatMs(turn.start_ms) }),
        );
      }
      block.append(head);
    }
    block.append(textNode);
    return block;
  }

  /** Splits [start, end) at every coding boundary and appends segments wrapped in marks. */
  function fillSegments(container, start, end, views, visible, firstMarkDone) {
    const here = views.filter((v) => v.coding.span.start < end && v.coding.span.end > start);
    // Transcription marks (`<UNSURE>…`, `<UNIN/>`) stay in the text but are shown as marks.
    const marks = (source.markers || []).filter((m) => m.span.start < end && m.span.end > start);
    const cuts = new Set([start, end]);
    for (const x of [...here.map((v) => v.coding.span), ...marks.map((m) => m.span)]) {
      if (x.start > start) cuts.add(x.start);
      if (x.end < end) cuts.add(x.end);
    }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      if (b <= a) continue;
      const seg = el('span', { class: 'seg', dataset: { start: a, end: b }, text: chars.slice(a, b).join('') });
      const mark = marks.find((m) => m.span.start <= a && m.span.end >= b);
      if (mark) {
        seg.classList.add('transcriber-mark', `mark-${mark.kind}`);
        seg.title = `Transcriber’s mark: ${mark.kind}`;
      }
      if (visible) segIndex.push({ el: seg, start: a, end: b });
      const covering = here.filter((v) => v.coding.span.start <= a && v.coding.span.end >= b);
      let node = seg;
      for (let k = covering.length - 1; k >= 0; k--) {
        node = markFor(covering[k], node, covering.length, visible, firstMarkDone, a, b);
      }
      container.append(node);
    }
  }

  function markFor(view, inner, depth, visible, firstMarkDone, a, b) {
    const c = view.coding;
    const m = document.createElement('mark');
    m.className = 'coding';
    if (c.contrast) m.classList.add('contrast');
    if (depth > 1) m.classList.add('overlap');
    if (c.id === selectedCodingId) m.classList.add('selected');
    if (a === c.span.start) m.classList.add('coding-start');
    if (b === c.span.end) m.classList.add('coding-end');
    m.dataset.codingId = c.id;
    m.dataset.start = c.span.start;
    m.dataset.end = c.span.end;
    m.dataset.code = c.code;
    m.dataset.coder = c.coder;
    m.style.setProperty('--c', colourOf(view));
    m.title = describe(view);
    if (visible) {
      if (!firstMarkDone.has(c.id)) {
        firstMarkDone.add(c.id);
        m.tabIndex = 0;
        m.classList.add('first');
        m.setAttribute('aria-describedby', `coding-desc-${c.id}`);
      }
      if (!codingMarks.has(c.id)) codingMarks.set(c.id, []);
      codingMarks.get(c.id).push(m);
    }
    m.append(inner);
    return m;
  }

  // ---- margin brackets ----------------------------------------------------------------------
  const LANE = 14; // px per lane
  const LABEL_WIDTH = 150;
  const LABEL_HEIGHT = 18;

  function layoutBrackets() {
    clear(margin);
    const base = margin.getBoundingClientRect();
    const items = [];
    for (const v of visibleCodings()) {
      const marks = codingMarks.get(v.coding.id);
      if (!marks || !marks.length) continue;
      const firstRects = marks[0].getClientRects();
      const lastRects = marks[marks.length - 1].getClientRects();
      if (!firstRects.length || !lastRects.length) continue;
      const top = firstRects[0].top - base.top;
      const bottom = lastRects[lastRects.length - 1].bottom - base.top;
      items.push({ view: v, top, bottom: Math.max(bottom, top + 8) });
    }
    items.sort((x, y) => x.top - y.top || y.bottom - x.bottom);
    const laneEnds = [];
    for (const it of items) {
      let lane = laneEnds.findIndex((endY) => endY < it.top - 1);
      if (lane < 0) {
        lane = laneEnds.length;
        laneEnds.push(0);
      }
      laneEnds[lane] = it.bottom;
      it.lane = lane;
    }
    const lanes = Math.max(laneEnds.length, 1);
    const labelX = lanes * LANE + 6;
    margin.style.setProperty('--margin-width', `${labelX + LABEL_WIDTH}px`);
    let labelBottom = -Infinity;
    for (const it of items) {
      const v = it.view;
      const c = v.coding;
      const name = nameOf(v);
      const labelTop = Math.max(it.top, labelBottom + 2);
      labelBottom = labelTop + LABEL_HEIGHT;
      const label = el('span', { class: 'bracket-label' }, (c.contrast ? '≠ ' : '') + name, el('span', { class: 'bracket-coder', text: ` · ${c.coder}` }));
      label.style.setProperty('left', `${labelX - it.lane * LANE}px`);
      label.style.setProperty('top', `${labelTop - it.top}px`);
      label.style.setProperty('width', `${LABEL_WIDTH - 4}px`);
      const bracket = el(
        'button',
        {
          type: 'button',
          class: 'bracket' + (c.contrast ? ' contrast' : '') + (c.id === selectedCodingId ? ' selected' : ''),
          tabIndex: -1,
          dataset: { codingId: c.id },
          title: describe(v),
          attrs: { 'aria-label': `${pathOf(v)}, coded by ${c.coder}${c.contrast ? ', contrast case' : ''}` },
          style: {
            '--c': colourOf(v),
            top: `${it.top}px`,
            height: `${it.bottom - it.top}px`,
            left: `${it.lane * LANE}px`,
          },
        },
        el('span', { class: 'bracket-bar', attrs: { 'aria-hidden': 'true' } }),
        label,
      );
      bracket.addEventListener('click', () => openPanel(c.id, bracket));
      margin.append(bracket);
    }
    margin.style.setProperty('min-height', `${Math.max(labelBottom, 0)}px`);
  }

  const relayout = debounce(() => {
    if (source) layoutBrackets();
  }, 60);
  new ResizeObserver(relayout).observe(transcript);
  window.addEventListener('resize', relayout);

  // ---- selection ↔ offsets ----------------------------------------------------------------
  function segOf(node) {
    const elNode = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    if (!elNode || !elNode.closest) return null;
    const seg = elNode.closest('.seg');
    return seg && transcript.contains(seg) && seg.closest('.turn-text') ? seg : null;
  }

  /** The code point offset of a DOM boundary; outside the turn texts it snaps inwards. */
  function pointToOffset(node, offset, isStart) {
    const seg = segOf(node);
    if (seg) {
      const segStart = Number(seg.dataset.start);
      if (node.nodeType === Node.TEXT_NODE) return segStart + cpLength(node.data.slice(0, offset));
      return offset === 0 ? segStart : Number(seg.dataset.end);
    }
    if (!segIndex.length) return null;
    const r = document.createRange();
    try {
      r.setStart(node, offset);
    } catch (e) {
      return null;
    }
    r.collapse(true);
    if (isStart) {
      // The first segment that begins at or after the point.
      let lo = 0;
      let hi = segIndex.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (r.comparePoint(segIndex[mid].el, 0) >= 0) hi = mid;
        else lo = mid + 1;
      }
      return lo < segIndex.length ? segIndex[lo].start : chars.length;
    }
    // The last segment that ends at or before the point.
    let lo = -1;
    let hi = segIndex.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const s = segIndex[mid].el;
      if (r.comparePoint(s, s.childNodes.length) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo >= 0 ? segIndex[lo].end : 0;
  }

  /** The selection as code point offsets {start, end} (whitespace at the edges trimmed), or null. */
  function currentSelectionOffsets() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!transcript.contains(range.commonAncestorContainer) && !range.intersectsNode(transcript)) return null;
    let startNode = range.startContainer;
    let startOffset = range.startOffset;
    let endNode = range.endContainer;
    let endOffset = range.endOffset;
    // Clamp a selection that runs outside the transcript.
    if (!transcript.contains(startNode)) {
      startNode = transcript;
      startOffset = 0;
    }
    if (!transcript.contains(endNode)) {
      endNode = transcript;
      endOffset = transcript.childNodes.length;
    }
    let start = pointToOffset(startNode, startOffset, true);
    let end = pointToOffset(endNode, endOffset, false);
    if (start === null || end === null) return null;
    while (start < end && /\s/u.test(chars[start])) start++;
    while (end > start && /\s/u.test(chars[end - 1])) end--;
    if (end <= start) return null;
    return { start, end };
  }

  function domPoint(cp, isStart) {
    // Segment containing cp (for a start: start <= cp < end; for an end: start < cp <= end).
    let lo = 0;
    let hi = segIndex.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segIndex[mid];
      if (isStart ? cp < s.start : cp <= s.start) hi = mid - 1;
      else if (isStart ? cp >= s.end : cp > s.end) lo = mid + 1;
      else {
        const text = s.el.firstChild;
        return { node: text, offset: cpToUtf16(text.data, cp - s.start) };
      }
    }
    // In a gap: snap to the nearest segment inwards.
    const s = isStart ? segIndex[Math.min(lo, segIndex.length - 1)] : segIndex[Math.max(hi, 0)];
    if (!s) return null;
    const text = s.el.firstChild;
    return isStart ? { node: text, offset: 0 } : { node: text, offset: text.data.length };
  }

  function restoreSelection({ start, end }) {
    const a = domPoint(start, true);
    const b = domPoint(end, false);
    if (!a || !b) return;
    window.getSelection().setBaseAndExtent(a.node, a.offset, b.node, b.offset);
  }

  document.addEventListener('selectionchange', () => {
    const s = currentSelectionOffsets();
    if (s) lastSelection = s;
  });

  // ---- keyboard selection and shortcuts ------------------------------------------------------
  function ensureCaret() {
    const sel = window.getSelection();
    if (sel.rangeCount && transcript.contains(sel.anchorNode) && segOf(sel.anchorNode)) return;
    let seg = null;
    const active = document.activeElement;
    if (active && active !== transcript && transcript.contains(active)) seg = active.querySelector('.seg');
    if (!seg) {
      // The first segment visible in the window.
      const top = Math.max(0, transcript.getBoundingClientRect().top);
      const found = segIndex.find((s) => s.el.getBoundingClientRect().bottom > top);
      seg = found ? found.el : segIndex.length ? segIndex[0].el : null;
    }
    if (seg && seg.firstChild) sel.collapse(seg.firstChild, 0);
  }

  transcript.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented) return;
    const arrows = { ArrowLeft: 'backward', ArrowRight: 'forward', ArrowUp: 'backward', ArrowDown: 'forward' };
    if (ev.shiftKey && (arrows[ev.key] || ev.key === 'Home' || ev.key === 'End')) {
      ensureCaret();
      const sel = window.getSelection();
      if (!sel.rangeCount) return;
      ev.preventDefault();
      if (ev.key === 'Home') sel.modify('extend', 'backward', 'lineboundary');
      else if (ev.key === 'End') sel.modify('extend', 'forward', 'lineboundary');
      else {
        const vertical = ev.key === 'ArrowUp' || ev.key === 'ArrowDown';
        const granularity = vertical ? 'line' : ev.ctrlKey || ev.altKey || ev.metaKey ? 'word' : 'character';
        sel.modify('extend', arrows[ev.key], granularity);
      }
      return;
    }
    if ((ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') && !ev.shiftKey) {
      const sel = window.getSelection();
      if (sel.rangeCount && transcript.contains(sel.anchorNode) && segOf(sel.anchorNode)) {
        ev.preventDefault();
        sel.modify('move', arrows[ev.key], ev.ctrlKey || ev.altKey ? 'word' : 'character');
      }
      return;
    }
    const mark = ev.target.closest && ev.target.closest('mark.coding');
    if (mark && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault();
      openPanel(mark.dataset.codingId, mark);
      return;
    }
    if (ev.key === 'Escape') {
      const sel = window.getSelection();
      if (!sel.isCollapsed) sel.collapseToEnd();
    }
  });

  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented) return;
    const t = ev.target;
    const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if ((ev.ctrlKey || ev.metaKey) && !ev.shiftKey && !ev.altKey && (ev.key === 'z' || ev.key === 'Z') && !typing) {
      if (!canWrite) return;
      ev.preventDefault();
      undo();
      return;
    }
    if (!typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey && (ev.key === 'c' || ev.key === 'C') && canWrite) {
      if (picker.open || panel.open) return;
      if (currentSelectionOffsets()) {
        ev.preventDefault();
        openPickerFromSelection(false);
      }
    }
  });

  // ---- mouse ------------------------------------------------------------------------------
  transcript.addEventListener('mousedown', () => {
    pointerDown = true;
  });
  document.addEventListener('mouseup', (ev) => {
    const wasDown = pointerDown;
    pointerDown = false;
    if (refreshPending) {
      refreshPending = false;
      setTimeout(refreshCodings, 0);
    }
    if (!canWrite) return;
    if (picker.node && picker.node.contains(ev.target)) return;
    if (panel.node && panel.node.contains(ev.target)) return;
    if (!transcript.contains(ev.target) && !wasDown) return;
    setTimeout(() => {
      const sel = currentSelectionOffsets();
      if (sel) openPicker(sel);
    }, 0);
  });

  transcript.addEventListener('click', (ev) => {
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed) return; // a drag to select, not a click
    const mark = ev.target.closest('mark.coding');
    if (mark) openPanel(mark.dataset.codingId, mark);
  });

  // A visible tooltip when a highlight has keyboard focus (hover uses the title).
  transcript.addEventListener('focusin', (ev) => {
    const mark = ev.target.closest && ev.target.closest('mark.coding');
    if (!mark) return;
    const view = codings.find((v) => v.coding.id === mark.dataset.codingId);
    if (!view) return;
    tooltip.textContent = describe(view);
    tooltip.hidden = false;
    const r = mark.getBoundingClientRect();
    placeNear(tooltip, r);
  });
  transcript.addEventListener('focusout', () => {
    tooltip.hidden = true;
  });

  /**
   * Positions a popup (absolute, in page coordinates) near `rect` (viewport coordinates):
   * below it if it fits, else above it, else beside the transcript text (over the margin) so
   * that it does not hide the passage, else as low as the window allows.
   */
  function placeNear(node, rect) {
    const w = node.offsetWidth || 300;
    const h = node.offsetHeight || 100;
    const viewW = document.documentElement.clientWidth;
    const viewH = window.innerHeight;
    let left = Math.max(8, Math.min(rect.left, viewW - w - 8));
    let top;
    if (rect.bottom + 6 + h + 8 <= viewH) top = rect.bottom + 6;
    else if (rect.top - h - 6 >= 8) top = rect.top - h - 6;
    else {
      top = Math.max(8, Math.min(rect.top - 24, viewH - h - 8));
      const text = transcript.getBoundingClientRect();
      const besideLeft = text.right + 8;
      if (besideLeft + w + 8 <= viewW) left = besideLeft;
    }
    node.style.setProperty('left', `${left + window.scrollX}px`);
    node.style.setProperty('top', `${top + window.scrollY}px`);
  }

  /** Scrolls the window just enough for a popup to be seen. */
  function revealPopup(node) {
    const r = node.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) node.scrollIntoView({ block: 'nearest' });
  }

  // ---- the code picker ----------------------------------------------------------------------
  const picker = { open: false, node: null };
  let newCodeParent = '';

  function openPickerFromSelection(fromButton) {
    const sel = currentSelectionOffsets() || (fromButton ? lastSelection : null);
    if (!sel) {
      message.show('Select some text first (with the mouse, or Shift and the arrow keys), then choose a code.', 'info');
      return;
    }
    openPicker(sel);
  }

  function selectionRect(sel) {
    const s = window.getSelection();
    if (s.rangeCount && !s.isCollapsed) {
      const r = s.getRangeAt(0).getBoundingClientRect();
      if (r.width || r.height) return r;
    }
    const a = domPoint(sel.start, true);
    if (a) {
      const r = document.createRange();
      r.setStart(a.node, a.offset);
      r.collapse(true);
      return r.getBoundingClientRect();
    }
    return transcript.getBoundingClientRect();
  }

  function openPicker(sel) {
    closePicker(false);
    closePanel(false);
    if (!canWrite) return;
    const { start, end } = sel;
    lastSelection = sel;
    const returnFocus = document.activeElement;
    const quote = chars.slice(start, end).join('');
    const titleId = uid('picker-title');
    const listId = uid('picker-list');
    const node = el('div', { class: 'popup picker', attrs: { role: 'dialog', 'aria-labelledby': titleId } });
    const flat = quote.replace(/\s+/g, ' ');
    const short = flat.length > 90 ? flat.slice(0, 87) + '…' : flat;
    node.append(el('p', { class: 'popup-title', id: titleId }, 'Code ', el('q', { text: short }), el('span', { class: 'meta', text: ` (characters ${start}–${end})` })));
    const input = el('input', {
      type: 'text',
      id: 'code-picker-input',
      autocomplete: 'off',
      spellcheck: false,
      placeholder: 'Type to find a code, or a new name…',
      attrs: { role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'true', 'aria-controls': listId, 'aria-label': 'Code' },
    });
    const list = el('ul', { class: 'picker-list', id: listId, attrs: { role: 'listbox', 'aria-label': 'Codes' } });
    const parentId = uid('new-parent');
    const parentSelect = el('select', { id: parentId });
    parentSelect.append(el('option', { value: '', text: '(top level)' }));
    for (const n of codebook) parentSelect.append(el('option', { value: n.code.id, text: n.path }));
    parentSelect.value = codeById.has(newCodeParent) ? newCodeParent : '';
    const contrastId = uid('contrast');
    const contrast = el('input', { type: 'checkbox', id: contrastId });
    const memoId = uid('memo');
    const memo = el('textarea', { id: memoId, rows: 2, placeholder: 'Why this code here? (optional)' });
    const applyBtn = el('button', { type: 'button', class: 'primary', text: 'Apply' });
    const cancelBtn = el('button', { type: 'button', text: 'Cancel' });
    append(
      node,
      input,
      list,
      el('div', { class: 'picker-row' }, el('label', { attrs: { for: parentId }, text: 'New codes go under' }), parentSelect),
      el('div', { class: 'picker-row' }, contrast, el('label', { attrs: { for: contrastId } }, 'Contrast case ', el('span', { class: 'meta', text: '(≠ evidence of what the code is not)' }))),
      el('label', { attrs: { for: memoId }, class: 'block-label', text: 'Memo (optional)' }),
      memo,
      el('div', { class: 'popup-buttons' }, applyBtn, cancelBtn),
      el('p', { class: 'hint', text: '↑ ↓ choose · Enter apply · Ctrl+Enter from the memo · Esc close' }),
    );

    let options = [];
    let active = 0;

    function render() {
      const q = input.value.trim();
      const words = q.toLowerCase().split(/\s+/).filter(Boolean);
      let found = codebook.filter((n) => {
        const hay = n.path.toLowerCase();
        return words.every((w) => hay.includes(w));
      });
      if (words.length) {
        const lq = q.toLowerCase();
        const rank = (n) => (n.code.name.toLowerCase() === lq ? 0 : n.code.name.toLowerCase().startsWith(lq) ? 1 : n.code.name.toLowerCase().includes(lq) ? 2 : 3);
        found = found.map((n, i) => ({ n, i, r: rank(n) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.n);
      }
      options = found.map((n) => ({ kind: 'code', node: n }));
      const exact = codebook.some((n) => n.code.name.toLowerCase() === q.toLowerCase() && (n.code.parent || '') === parentSelect.value);
      if (q && !exact && !q.includes('/')) options.push({ kind: 'new', name: q });
      active = Math.min(active, Math.max(options.length - 1, 0));
      clear(list);
      options.forEach((opt, i) => {
        const id = `${listId}-opt-${i}`;
        const li = el('li', { id, class: 'picker-option', attrs: { role: 'option', 'aria-selected': i === active ? 'true' : 'false' } });
        if (opt.kind === 'code') {
          li.append(swatch(opt.node.code.colour), ' ', el('span', { class: 'option-path', text: opt.node.path }), el('span', { class: 'code-count', text: countText(opt.node) }));
        } else {
          const under = parentSelect.value ? codeById.get(parentSelect.value).path : 'top level';
          li.classList.add('new-code');
          li.append(el('span', { text: `New code “${opt.name}” under ${under}` }));
        }
        li.addEventListener('mousedown', (ev) => ev.preventDefault());
        li.addEventListener('click', () => {
          active = i;
          apply();
        });
        list.append(li);
      });
      if (!options.length) list.append(el('li', { class: 'hint', attrs: { role: 'presentation' }, text: 'No code matches.' }));
      if (options.length) {
        input.setAttribute('aria-activedescendant', `${listId}-opt-${active}`);
        // Keep the active option in view by scrolling the list only (never the page).
        const cur = list.children[active];
        if (cur) {
          if (cur.offsetTop < list.scrollTop) list.scrollTop = cur.offsetTop;
          else if (cur.offsetTop + cur.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = cur.offsetTop + cur.offsetHeight - list.clientHeight;
        }
      } else input.removeAttribute('aria-activedescendant');
    }

    let busy = false;
    async function apply() {
      if (busy) return;
      const opt = options[active];
      if (!opt) {
        message.show('Choose a code from the list, or type a name for a new one.', 'info');
        input.focus();
        return;
      }
      busy = true;
      node.classList.add('busy');
      try {
        let codeId;
        let label;
        if (opt.kind === 'new') {
          newCodeParent = parentSelect.value;
          const code = await api('POST', '/codes', { name: opt.name, parent: parentSelect.value || null });
          codeId = code.id;
          label = opt.name;
          try {
            setCodebook(await loadCodebook());
          } catch (e) {
            /* refreshed again below */
          }
          status.show(`Created the code “${opt.name}”.`, 'ok');
        } else {
          codeId = opt.node.code.id;
          label = opt.node.path;
        }
        const view = await api('POST', '/codings', {
          source: sourceId,
          code: codeId,
          start,
          end,
          contrast: contrast.checked,
          memo: memo.value.trim() ? memo.value.trim() : null,
        });
        pushUndo({ kind: 'create', id: view.coding.id, label: `coding “${label}”` });
        upsert(view);
        closePicker(false);
        window.getSelection().removeAllRanges();
        lastSelection = null;
        selectedCodingId = null;
        redraw();
        status.show(`Coded as ${label}${contrast.checked ? ' (contrast)' : ''}.`, 'ok');
        focusCoding(view.coding.id, false);
        refreshCodebookSoon();
      } catch (e) {
        message.show(describeError(e));
        busy = false;
        node.classList.remove('busy');
      }
    }

    input.addEventListener('input', () => {
      active = 0;
      render();
    });
    parentSelect.addEventListener('change', render);
    node.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        closePicker(true);
        return;
      }
      if (ev.target === input && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp')) {
        ev.preventDefault();
        if (!options.length) return;
        active = (active + (ev.key === 'ArrowDown' ? 1 : -1) + options.length) % options.length;
        render();
        return;
      }
      if (ev.target === input && (ev.key === 'Home' || ev.key === 'End') && ev.ctrlKey) {
        ev.preventDefault();
        active = ev.key === 'Home' ? 0 : Math.max(options.length - 1, 0);
        render();
        return;
      }
      if (ev.key === 'Enter') {
        const tag = ev.target.tagName;
        if (tag === 'BUTTON' || tag === 'SELECT') return;
        if (tag === 'TEXTAREA' && !(ev.ctrlKey || ev.metaKey)) return;
        ev.preventDefault();
        apply();
      }
    });
    applyBtn.addEventListener('click', apply);
    cancelBtn.addEventListener('click', () => closePicker(true));

    const rect = selectionRect(sel);
    node.style.setProperty('top', `${window.scrollY + rect.bottom + 6}px`);
    node.style.setProperty('left', `${window.scrollX + rect.left}px`);
    document.body.append(node);
    picker.open = true;
    picker.node = node;
    picker.returnFocus = returnFocus;
    render();
    placeNear(node, rect);
    input.focus({ preventScroll: true });
    revealPopup(node);
  }

  function closePicker(restoreFocus) {
    if (!picker.node) return;
    picker.node.remove();
    picker.node = null;
    picker.open = false;
    if (restoreFocus) {
      const r = picker.returnFocus;
      const back = r && r !== document.body && document.contains(r) ? r : transcript;
      back.focus({ preventScroll: true });
    }
  }

  // Clicking elsewhere closes the popups.
  document.addEventListener('mousedown', (ev) => {
    if (picker.node && !picker.node.contains(ev.target)) closePicker(false);
    if (panel.node && !panel.node.contains(ev.target) && !(ev.target.closest && ev.target.closest('mark.coding, .bracket'))) closePanel(false);
  });

  // ---- the coding panel ---------------------------------------------------------------------
  const panel = { open: false, node: null, id: null, anchor: null, update: () => {} };

  function mayChange(view) {
    if (!canWrite) return false;
    return isOwner || view.coding.coder.toLowerCase() === page.account.toLowerCase();
  }

  function openPanel(codingId, anchor) {
    closePicker(false);
    const view = codings.find((v) => v.coding.id === codingId);
    if (!view) return;
    selectCoding(codingId);
    if (panel.node) panel.node.remove();
    const titleId = uid('panel-title');
    const node = el('div', { class: 'popup coding-panel', attrs: { role: 'dialog', 'aria-labelledby': titleId } });
    panel.node = node;
    panel.open = true;
    panel.id = codingId;
    panel.anchor = anchor;
    panel.returnFocus = document.activeElement && document.activeElement !== document.body ? document.activeElement : anchor;
    panel.titleId = titleId;
    panel.stamp = null;
    panel.update = () => fillPanel();
    node.addEventListener('keydown', panelKeys);
    document.body.append(node);
    fillPanel();
    const r = (anchor && document.contains(anchor) ? anchor : transcript).getBoundingClientRect();
    placeNear(node, r);
    const first = node.querySelector('h2');
    if (first) first.focus({ preventScroll: true });
    revealPopup(node);
  }

  function fillPanel() {
    const node = panel.node;
    if (!node) return;
    const view = codings.find((v) => v.coding.id === panel.id);
    if (!view) {
      closePanel(true);
      status.show('That coding was removed (perhaps by someone else).', 'info');
      return;
    }
    const stamp = `${view.coding.version}|${pathOf(view)}|${view.coding.code}`;
    if (panel.stamp === stamp && node.firstChild) return; // unchanged: keep what is being typed
    panel.stamp = stamp;
    const focusedAction = document.activeElement && node.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    const memoDraft = node.querySelector('textarea');
    const draft = memoDraft && memoDraft.dataset.dirty === 'true' ? memoDraft.value : null;
    clear(node);
    const c = view.coding;
    const title = el('h2', { id: panel.titleId, tabIndex: -1 }, swatch(colourOf(view)), ' ', el('span', { text: pathOf(view) }));
    node.append(title);
    const meta = el('p', { class: 'meta' }, `Coded by ${c.coder} · ${formatDate(c.updated_at || c.created_at)} · characters ${c.span.start}–${c.span.end}`);
    if (view.speaker) meta.append(` · ${view.speaker}${view.role ? ` (${view.role})` : ''}`);
    if (c.contrast) meta.append(' ', el('span', { class: 'badge badge-contrast', text: '≠ contrast' }));
    node.append(meta);
    const quote = view.quote || chars.slice(c.span.start, c.span.end).join('');
    node.append(el('blockquote', { class: 'panel-quote', text: quote.length > 400 ? quote.slice(0, 397) + '…' : quote }));

    if (mayChange(view)) {
      const contrastId = uid('contrast');
      const contrast = el('input', { type: 'checkbox', id: contrastId, checked: !!c.contrast, dataset: { action: 'contrast' } });
      contrast.addEventListener('change', () => edit(view, { contrast: contrast.checked }, contrast.checked ? 'marking as contrast' : 'unmarking contrast'));
      node.append(el('div', { class: 'picker-row' }, contrast, el('label', { attrs: { for: contrastId }, text: 'Contrast case (≠)' })));

      const memoId = uid('memo');
      const memo = el('textarea', { id: memoId, rows: 2, value: draft !== null ? draft : c.memo || '', dataset: { action: 'memo' } });
      if (draft !== null) memo.dataset.dirty = 'true';
      memo.addEventListener('input', () => {
        memo.dataset.dirty = 'true';
      });
      const saveMemo = el('button', { type: 'button', text: 'Save memo', dataset: { action: 'save-memo' } });
      saveMemo.addEventListener('click', () => edit(view, { memo: memo.value.trim() }, 'memo edit'));
      memo.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
          ev.preventDefault();
          saveMemo.click();
        }
      });
      node.append(el('label', { attrs: { for: memoId }, class: 'block-label', text: 'Memo' }), memo, el('div', { class: 'popup-buttons' }, saveMemo));

      const bounds = el('fieldset', { class: 'bounds' }, el('legend', { text: 'Boundaries' }));
      const row = (which) => {
        const r = el('div', { class: 'bounds-row' }, el('span', { class: 'bounds-label', text: which === 'start' ? 'Start' : 'End' }));
        const moves = [
          ['«', 'word', -1, `Move the ${which} one word earlier`],
          ['‹', 'char', -1, `Move the ${which} one character earlier`],
          ['›', 'char', 1, `Move the ${which} one character later`],
          ['»', 'word', 1, `Move the ${which} one word later`],
        ];
        for (const [sym, unit, dir, label] of moves) {
          const b = el('button', { type: 'button', text: `${sym} ${unit}`, title: label, dataset: { action: `${which}-${unit}-${dir}` }, attrs: { 'aria-label': label } });
          b.addEventListener('click', () => nudge(view, which, unit, dir));
          r.append(b);
        }
        return r;
      };
      bounds.append(row('start'), row('end'), el('p', { class: 'hint', text: 'Keys: [ ] start by a character, { } by a word; , . end by a character, < > by a word.' }));
      node.append(bounds);

      // Recode: another code for the same passage.
      const recodeId = uid('recode');
      const recode = el('select', { id: recodeId, dataset: { action: 'recode' } });
      for (const n of codebook) recode.append(el('option', { value: n.code.id, text: n.path }));
      recode.value = c.code;
      const recodeBtn = el('button', { type: 'button', text: 'Change code', dataset: { action: 'recode-apply' } });
      recodeBtn.addEventListener('click', () => {
        if (recode.value && recode.value !== c.code) edit(view, { code: recode.value }, 'change of code');
      });
      node.append(el('div', { class: 'picker-row' }, el('label', { attrs: { for: recodeId }, text: 'Code' }), recode, recodeBtn));

      const remove = el('button', { type: 'button', class: 'danger', text: 'Remove coding', dataset: { action: 'remove' } });
      remove.addEventListener('click', () => removeCoding(view));
      const close = el('button', { type: 'button', text: 'Close', dataset: { action: 'close' } });
      close.addEventListener('click', () => closePanel(true));
      node.append(el('div', { class: 'popup-buttons' }, remove, close));
    } else {
      if (c.memo) node.append(el('p', { class: 'panel-memo' }, el('strong', { text: 'Memo: ' }), c.memo));
      node.append(el('p', { class: 'hint', text: canWrite ? `This coding is ${c.coder}'s; only they or an owner may change it.` : 'Read only.' }));
      const close = el('button', { type: 'button', text: 'Close', dataset: { action: 'close' } });
      close.addEventListener('click', () => closePanel(true));
      node.append(el('div', { class: 'popup-buttons' }, close));
    }
    if (focusedAction) {
      const again = node.querySelector(`[data-action="${CSS.escape(focusedAction)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function panelKeys(ev) {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      closePanel(true);
      return;
    }
    const t = ev.target;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) && t.type !== 'checkbox') return;
    const view = codings.find((v) => v.coding.id === panel.id);
    if (!view || !mayChange(view)) return;
    const keys = {
      '[': ['start', 'char', -1],
      ']': ['start', 'char', 1],
      '{': ['start', 'word', -1],
      '}': ['start', 'word', 1],
      ',': ['end', 'char', -1],
      '.': ['end', 'char', 1],
      '<': ['end', 'word', -1],
      '>': ['end', 'word', 1],
    };
    const k = keys[ev.key];
    if (k) {
      ev.preventDefault();
      nudge(view, ...k);
    }
  }

  function closePanel(restoreFocus) {
    if (!panel.node) return;
    panel.node.remove();
    panel.node = null;
    panel.open = false;
    const id = panel.id;
    panel.id = null;
    selectCoding(null);
    if (restoreFocus) {
      if (!focusCoding(id, false)) {
        const back = panel.returnFocus && document.contains(panel.returnFocus) ? panel.returnFocus : transcript;
        back.focus({ preventScroll: true });
      }
    }
  }

  function selectCoding(id) {
    selectedCodingId = id;
    for (const m of main.querySelectorAll('mark.coding.selected, .bracket.selected')) m.classList.remove('selected');
    if (!id) return;
    for (const m of main.querySelectorAll(`mark.coding[data-coding-id="${CSS.escape(id)}"], .bracket[data-coding-id="${CSS.escape(id)}"]`)) {
      m.classList.add('selected');
    }
  }

  /** Focuses the first visible mark of a coding; returns whether it exists. */
  function focusCoding(id, scroll) {
    if (!id) return false;
    const marks = codingMarks.get(id);
    if (!marks || !marks.length) return false;
    marks[0].focus({ preventScroll: !scroll });
    if (scroll) marks[0].scrollIntoView({ block: 'center' });
    return true;
  }

  function goToHash() {
    const m = /^#coding-(.+)$/.exec(location.hash);
    if (!m) return;
    const id = decodeURIComponent(m[1]);
    if (focusCoding(id, true)) selectCoding(id);
  }
  window.addEventListener('hashchange', goToHash);

  // ---- changes ------------------------------------------------------------------------------
  let editing = false;

  function upsert(view) {
    const i = codings.findIndex((v) => v.coding.id === view.coding.id);
    if (i >= 0) codings[i] = view;
    else codings.push(view);
  }

  function snapshot(c) {
    return { start: c.span.start, end: c.span.end, contrast: c.contrast, memo: c.memo || '', code: c.code };
  }

  async function edit(view, changes, label) {
    if (editing) return;
    editing = true;
    const current = codings.find((v) => v.coding.id === view.coding.id) || view;
    try {
      const before = snapshot(current.coding);
      const updated = await api('PATCH', `/codings/${encodeURIComponent(current.coding.id)}`, { version: current.coding.version, ...changes });
      pushUndo({ kind: 'edit', id: updated.coding.id, before, label });
      upsert(updated);
      const ta = panel.node && panel.node.querySelector('textarea');
      if (ta && 'memo' in changes) ta.dataset.dirty = 'false';
      redraw();
      selectCoding(panel.id);
      status.show('Saved.', 'ok');
    } catch (e) {
      message.show(describeError(e));
      if (e.code === 'conflict' || e.code === 'not_found') refreshCodings();
      else if (panel.open) panel.update();
    } finally {
      editing = false;
    }
  }

  const isWordChar = (ch) => /[\p{L}\p{N}\p{M}'’_-]/u.test(ch || '');

  function moved(pos, unit, dir) {
    const n = chars.length;
    if (unit === 'char') return Math.min(Math.max(pos + dir, 0), n);
    let i = pos;
    if (dir < 0) {
      while (i > 0 && !isWordChar(chars[i - 1])) i--;
      while (i > 0 && isWordChar(chars[i - 1])) i--;
    } else {
      while (i < n && !isWordChar(chars[i])) i++;
      while (i < n && isWordChar(chars[i])) i++;
    }
    return i;
  }

  function nudge(view, which, unit, dir) {
    const current = codings.find((v) => v.coding.id === view.coding.id) || view;
    let { start, end } = current.coding.span;
    if (which === 'start') {
      if (unit === 'word' && dir > 0) {
        // Start of the next word.
        let i = start;
        while (i < chars.length && isWordChar(chars[i])) i++;
        while (i < chars.length && !isWordChar(chars[i])) i++;
        start = i;
      } else start = moved(start, unit, dir);
    } else if (unit === 'word' && dir < 0) {
      // End of the previous word.
      let i = end;
      while (i > 0 && isWordChar(chars[i - 1])) i--;
      while (i > 0 && !isWordChar(chars[i - 1])) i--;
      end = i;
    } else end = moved(end, unit, dir);
    if (end <= start) {
      message.show('The coding would be empty: its end must stay after its start.', 'info');
      return;
    }
    if (start === current.coding.span.start && end === current.coding.span.end) return;
    edit(current, which === 'start' ? { start } : { end }, 'boundary change');
  }

  async function removeCoding(view) {
    if (editing) return;
    editing = true;
    const current = codings.find((v) => v.coding.id === view.coding.id) || view;
    try {
      await api('DELETE', `/codings/${encodeURIComponent(current.coding.id)}?version=${current.coding.version}`);
      pushUndo({ kind: 'delete', view: current, label: `removal of “${pathOf(current)}”` });
      codings = codings.filter((v) => v.coding.id !== current.coding.id);
      closePanel(false);
      redraw();
      transcript.focus({ preventScroll: true });
      status.show('Coding removed. Ctrl+Z undoes it.', 'ok');
      refreshCodebookSoon();
    } catch (e) {
      message.show(describeError(e));
      if (e.code === 'conflict' || e.code === 'not_found') refreshCodings();
    } finally {
      editing = false;
    }
  }

  // ---- undo ---------------------------------------------------------------------------------
  const undoStack = [];
  const alias = new Map(); // id of a removed coding → id of the coding that restored it

  function resolveId(id) {
    const seen = new Set();
    while (alias.has(id) && !seen.has(id)) {
      seen.add(id);
      id = alias.get(id);
    }
    return id;
  }

  function pushUndo(entry) {
    undoStack.push(entry);
    if (undoStack.length > 100) undoStack.shift();
    updateUndoButton();
  }

  function updateUndoButton() {
    const last = undoStack[undoStack.length - 1];
    undoButton.setAttribute('aria-disabled', last ? 'false' : 'true');
    undoLabel.textContent = last ? `Undo ${last.label}` : 'Nothing to undo';
  }

  async function findCurrent(id) {
    let v = codings.find((x) => x.coding.id === id);
    if (!v) {
      codings = await apiAll(`/sources/${encodeURIComponent(sourceId)}/codings`);
      v = codings.find((x) => x.coding.id === id);
    }
    return v;
  }

  let undoing = false;
  async function undo() {
    if (!canWrite || undoing) return;
    const entry = undoStack.pop();
    updateUndoButton();
    if (!entry) {
      status.show('Nothing to undo.', 'info');
      return;
    }
    undoing = true;
    try {
      if (entry.kind === 'create') {
        const v = await findCurrent(resolveId(entry.id));
        if (!v) throw new Error('The coding is already gone.');
        await api('DELETE', `/codings/${encodeURIComponent(v.coding.id)}?version=${v.coding.version}`);
        codings = codings.filter((x) => x.coding.id !== v.coding.id);
        if (panel.id === v.coding.id) closePanel(false);
      } else if (entry.kind === 'delete') {
        const c = entry.view.coding;
        const view = await api('POST', '/codings', {
          source: c.source,
          code: c.code,
          start: c.span.start,
          end: c.span.end,
          contrast: !!c.contrast,
          memo: c.memo || null,
        });
        alias.set(c.id, view.coding.id);
        upsert(view);
      } else if (entry.kind === 'edit') {
        const v = await findCurrent(resolveId(entry.id));
        if (!v) throw new Error('The coding is gone; the edit cannot be undone.');
        const b = entry.before;
        const view = await api('PATCH', `/codings/${encodeURIComponent(v.coding.id)}`, {
          version: v.coding.version,
          start: b.start,
          end: b.end,
          contrast: b.contrast,
          memo: b.memo,
          code: b.code,
        });
        upsert(view);
      }
      redraw();
      status.show(`Undone: ${entry.label}.`, 'ok');
      refreshCodebookSoon();
    } catch (e) {
      message.show(describeError(e));
      refreshCodings();
    } finally {
      undoing = false;
    }
  }

  // ---- live updates -------------------------------------------------------------------------
  function connectEvents() {
    if (typeof EventSource === 'undefined') return;
    const events = new EventSource(`/api/v1/studies/${encodeURIComponent(page.slug)}/events`);
    const refreshSoon = debounce(() => refreshCodings(), 250);
    events.addEventListener('open', () => {
      liveNode.textContent = 'Live';
      liveNode.classList.remove('off');
    });
    events.addEventListener('error', () => {
      liveNode.textContent = 'Live: reconnecting…';
      liveNode.classList.add('off');
    });
    events.addEventListener('coding', (ev) => {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!data || data.source !== sourceId) return;
      if (data.action === 'rewritten') {
        // De-identified: the text itself changed, and every offset with it.
        status.show(`${data.coder} de-identified this source; reloading…`, 'info');
        window.location.reload();
        return;
      }
      refreshSoon();
      if (data.coder && data.coder.toLowerCase() !== page.account.toLowerCase()) {
        status.show(`${data.coder} ${data.action || 'changed'} a coding here.`, 'info');
      }
    });
    window.addEventListener('pagehide', () => events.close());
  }
}
