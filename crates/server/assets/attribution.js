// Attribution on the document page: which passages speak about which participant or dyad.
// Attributed stretches are drawn as quiet bars in a gutter left of the transcript, each with
// its label ("about P03"); after selecting text, A opens the "about…" chooser (type to filter,
// ↑ ↓, Enter to apply), as C opens the code picker. A panel lists suggestions (turns that
// mention a participant); nothing is attributed until a person presses Confirm.
//
// The document page owns the transcript and the selection; it hands this module what it needs
// (`mountAttributions`) and calls `layout()` whenever the text is redrawn.

import { api, apiAll, page, canWrite, isOwner, el, append, clear, describeError, uid } from './api.js';

const LANE = 12; // px per lane of bars
/** Suggestions a person dismissed on this computer (nothing is stored on the server). */
const DISMISSED = `between:dismissed-suggestions:${page.slug}`;

/**
 * `ctx`: `sourceId`, `source` (the document), `gutter` (element beside the transcript),
 * `rangeOf(start, end)` (a DOM Range of code points, or null), `selection()` ({start, end} or
 * null), `quoteOf(start, end)`, `clearSelection()`, `placeNear(node, rect)`, `message`, `status`,
 * `suggestionsNode` (where the panel goes).
 */
export function mountAttributions(ctx) {
  let views = []; // AttributionView[]
  let targets = null; // [{label, kind, detail}] of the study's participants and dyads
  const chooser = { node: null, returnFocus: null };
  const panel = mountSuggestions();

  async function refresh() {
    try {
      views = await apiAll(`/sources/${encodeURIComponent(ctx.sourceId)}/attributions`);
    } catch (e) {
      ctx.message.show(describeError(e));
      return;
    }
    layout();
  }

  function mayRemove(view) {
    return canWrite && (isOwner || view.attribution.attributed_by.toLowerCase() === page.account.toLowerCase());
  }

  /** Draws a bar beside every attributed stretch, in lanes so overlapping ones stay apart. */
  function layout() {
    const gutter = ctx.gutter;
    clear(gutter);
    const base = gutter.getBoundingClientRect();
    const items = [];
    for (const v of views) {
      const range = ctx.rangeOf(v.attribution.span.start, v.attribution.span.end);
      const rects = range ? [...range.getClientRects()].filter((r) => r.height > 0) : [];
      if (!rects.length) continue;
      const top = rects[0].top - base.top;
      const bottom = rects[rects.length - 1].bottom - base.top;
      items.push({ view: v, top, bottom: Math.max(bottom, top + 8) });
    }
    items.sort((x, y) => x.top - y.top || y.bottom - x.bottom);
    const laneEnds = [];
    for (const it of items) {
      let lane = laneEnds.findIndex((end) => end < it.top - 1);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = it.bottom;
      it.lane = lane;
    }
    gutter.style.setProperty('--lanes', String(Math.max(laneEnds.length, 1)));
    for (const it of items) {
      const v = it.view;
      const a = v.attribution;
      const quote = v.quote.replace(/\s+/g, ' ');
      const bar = el(
        'button',
        {
          type: 'button',
          class: 'about-bar',
          dataset: { attributionId: a.id, about: v.about },
          title: `About ${v.about} — attributed by ${a.attributed_by}\n“${quote.length > 120 ? quote.slice(0, 117) + '…' : quote}”`,
          attrs: { 'aria-label': `Passage about ${v.about}, attributed by ${a.attributed_by}` },
          style: { top: `${it.top}px`, height: `${it.bottom - it.top}px`, right: `${it.lane * LANE}px` },
        },
        el('span', { class: 'about-label', text: v.about }),
      );
      bar.addEventListener('click', () => openDetails(v, bar));
      gutter.append(bar);
    }
  }

  // ---- a bar's details: who attributed it, and Remove ---------------------------------------
  function openDetails(view, bar) {
    closeChooser(false);
    const a = view.attribution;
    const node = el('div', { class: 'popup about-details', attrs: { role: 'dialog', 'aria-label': `About ${view.about}` } });
    node.append(
      el('p', { class: 'popup-title' }, 'About ', el('strong', { text: view.about }), el('span', { class: 'meta', text: ` (characters ${a.span.start}–${a.span.end}), attributed by ${a.attributed_by}` })),
      el('blockquote', { class: 'about-quote', text: view.quote }),
    );
    const buttons = el('div', { class: 'popup-buttons' });
    if (mayRemove(view)) {
      buttons.append(
        el('button', {
          type: 'button',
          class: 'danger',
          text: 'Remove attribution',
          on: {
            click: async () => {
              try {
                await api('DELETE', `/attributions/${encodeURIComponent(a.id)}`);
                ctx.status.show(`The passage is no longer attributed to ${view.about}.`, 'ok');
                closeChooser(false);
                await refresh();
                panel.refresh();
              } catch (e) {
                ctx.message.show(describeError(e));
              }
            },
          },
        }),
      );
    }
    buttons.append(el('button', { type: 'button', text: 'Close', on: { click: () => closeChooser(true) } }));
    node.append(buttons);
    show(node, bar.getBoundingClientRect(), bar);
    (node.querySelector('button.danger') || node.querySelector('button')).focus({ preventScroll: true });
  }

  // ---- the "about…" chooser -----------------------------------------------------------------
  async function loadTargets() {
    if (targets) return targets;
    const [participants, dyads] = await Promise.all([apiAll('/participants'), apiAll('/dyads')]);
    const own = ctx.source.participant;
    targets = [
      ...participants
        .filter((p) => p.label !== own)
        .map((p) => ({ label: p.label, kind: p.role, detail: p.name || '' })),
      ...dyads.map((d) => ({ label: d.label, kind: 'dyad', detail: '' })),
    ];
    return targets;
  }

  /** Opens the chooser for the current selection (or the last one, from the toolbar button). */
  async function openChooser(fromButton) {
    const sel = ctx.selection(fromButton);
    if (!sel) {
      ctx.message.show('Select some text first (with the mouse, or Shift and the arrow keys), then choose whom it is about.', 'info');
      return;
    }
    const returnFocus = document.activeElement;
    let options;
    try {
      options = await loadTargets();
    } catch (e) {
      ctx.message.show(describeError(e));
      return;
    }
    closeChooser(false);
    const { start, end } = sel;
    const flat = ctx.quoteOf(start, end).replace(/\s+/g, ' ');
    const titleId = uid('about-title');
    const listId = uid('about-list');
    const node = el('div', { class: 'popup picker about-chooser', attrs: { role: 'dialog', 'aria-labelledby': titleId } });
    const input = el('input', {
      type: 'text',
      id: 'about-chooser-input',
      autocomplete: 'off',
      spellcheck: false,
      placeholder: 'Type a participant or dyad, e.g. P03…',
      attrs: { role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'true', 'aria-controls': listId, 'aria-label': 'About whom' },
    });
    const list = el('ul', { class: 'picker-list', id: listId, attrs: { role: 'listbox', 'aria-label': 'Participants and dyads' } });
    append(
      node,
      el('p', { class: 'popup-title', id: titleId }, 'About whom is ', el('q', { text: flat.length > 90 ? flat.slice(0, 87) + '…' : flat }), '?'),
      input,
      list,
      el('div', { class: 'popup-buttons' }, el('button', { type: 'button', class: 'primary', text: 'Attribute', on: { click: () => apply() } }), el('button', { type: 'button', text: 'Cancel', on: { click: () => closeChooser(true) } })),
      el('p', { class: 'hint', text: '↑ ↓ choose · Enter attribute · Esc close' }),
    );
    let shown = [];
    let active = 0;

    function render() {
      const q = input.value.trim().toLowerCase();
      shown = options.filter((o) => !q || `${o.label} ${o.kind} ${o.detail}`.toLowerCase().includes(q));
      // A label typed whole comes first.
      shown.sort((a, b) => (b.label.toLowerCase() === q) - (a.label.toLowerCase() === q) || (b.label.toLowerCase().startsWith(q)) - (a.label.toLowerCase().startsWith(q)));
      active = Math.min(active, Math.max(shown.length - 1, 0));
      clear(list);
      shown.forEach((o, i) => {
        const li = el(
          'li',
          { id: `${listId}-opt-${i}`, class: 'picker-option', attrs: { role: 'option', 'aria-selected': i === active ? 'true' : 'false' } },
          el('span', { class: 'option-path', text: `about ${o.label}` }),
          el('span', { class: 'meta', text: ` ${o.kind}${o.detail ? ` · ${o.detail}` : ''}` }),
        );
        li.addEventListener('mousedown', (ev) => ev.preventDefault());
        li.addEventListener('click', () => {
          active = i;
          apply();
        });
        list.append(li);
      });
      if (shown.length) input.setAttribute('aria-activedescendant', `${listId}-opt-${active}`);
      else {
        input.removeAttribute('aria-activedescendant');
        list.append(el('li', { class: 'hint', attrs: { role: 'presentation' }, text: 'No participant or dyad matches.' }));
      }
    }

    let busy = false;
    async function apply() {
      const target = shown[active];
      if (busy || !target) return;
      busy = true;
      node.classList.add('busy');
      try {
        await api('POST', '/attributions', { source: ctx.sourceId, start, end, about: target.label });
        closeChooser(false);
        ctx.clearSelection();
        ctx.status.show(`Attributed to ${target.label}.`, 'ok');
        await refresh();
        panel.refresh();
      } catch (e) {
        ctx.message.show(describeError(e));
        busy = false;
        node.classList.remove('busy');
      }
    }

    input.addEventListener('input', () => {
      active = 0;
      render();
    });
    node.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        closeChooser(true);
      } else if (ev.target === input && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') && shown.length) {
        ev.preventDefault();
        active = (active + (ev.key === 'ArrowDown' ? 1 : -1) + shown.length) % shown.length;
        render();
      } else if (ev.key === 'Enter' && ev.target === input) {
        ev.preventDefault();
        apply();
      }
    });
    render();
    const range = ctx.rangeOf(start, end);
    show(node, range ? range.getBoundingClientRect() : ctx.gutter.getBoundingClientRect(), returnFocus);
    input.focus({ preventScroll: true });
  }

  function show(node, rect, returnFocus) {
    document.body.append(node);
    chooser.node = node;
    chooser.returnFocus = returnFocus;
    ctx.placeNear(node, rect);
  }

  function closeChooser(restoreFocus) {
    if (!chooser.node) return;
    chooser.node.remove();
    chooser.node = null;
    const back = chooser.returnFocus;
    if (restoreFocus && back && document.contains(back)) back.focus({ preventScroll: true });
  }

  document.addEventListener('mousedown', (ev) => {
    if (chooser.node && !chooser.node.contains(ev.target) && !(ev.target.closest && ev.target.closest('.about-bar'))) closeChooser(false);
  });

  // ---- suggestions ----------------------------------------------------------------------------
  function mountSuggestions() {
    const node = ctx.suggestionsNode;
    const aliasId = uid('aliases');
    const aliasInput = el('input', { type: 'text', id: aliasId, placeholder: 'the Boss=C1; George=P01', spellcheck: false });
    const list = el('ul', { class: 'suggestion-list' });
    const summary = el('summary', { text: 'Suggested attributions' });
    append(
      node,
      summary,
      el('p', { class: 'hint', text: 'Turns of this source that mention a participant by label, name, pseudonym or an alias you give. Nothing is attributed until you confirm it.' }),
      el(
        'form',
        { class: 'picker-row', on: { submit: (ev) => { ev.preventDefault(); refreshSuggestions(); } } },
        el('label', { attrs: { for: aliasId }, text: 'Aliases (words=label, separated by ;)' }),
        aliasInput,
        el('button', { type: 'submit', text: 'Look again' }),
      ),
      list,
    );
    const dismissed = new Set(JSON.parse(localStorage.getItem(DISMISSED) || '[]'));

    async function refreshSuggestions() {
      const params = new URLSearchParams({ source: ctx.sourceId });
      for (const alias of aliasInput.value.split(';').map((a) => a.trim()).filter(Boolean)) params.append('alias', alias);
      let rows;
      try {
        rows = await apiAll(`/attributions/suggestions?${params}`);
      } catch (e) {
        ctx.message.show(describeError(e));
        return;
      }
      rows = rows.filter((s) => !dismissed.has(s.key));
      summary.textContent = `Suggested attributions (${rows.length})`;
      clear(list);
      if (!rows.length) list.append(el('li', { class: 'hint', text: 'No suggestions.' }));
      for (const s of rows) {
        const item = el('li', { class: 'suggestion', dataset: { key: s.key } });
        const words = ctx.quoteOf(s.span.start, s.span.end).replace(/\s+/g, ' ');
        item.append(
          el('p', {}, 'About ', el('strong', { text: s.about }), ': ', el('mark', { class: 'matched', text: s.matched }), el('span', { class: 'meta', text: ` — ${s.why}` })),
          el('p', { class: 'suggestion-quote', text: words.length > 160 ? words.slice(0, 157) + '…' : words }),
        );
        const buttons = el('div', { class: 'popup-buttons' });
        if (canWrite) {
          buttons.append(
            el('button', {
              type: 'button',
              class: 'primary',
              text: 'Confirm',
              attrs: { 'aria-label': `Confirm: about ${s.about} (“${s.matched}”)` },
              on: {
                click: async () => {
                  try {
                    await api('POST', '/attributions/suggestions/confirm', { keys: [s.key] });
                    ctx.status.show(`Attributed the turn to ${s.about}.`, 'ok');
                    await refresh();
                    refreshSuggestions();
                  } catch (e) {
                    ctx.message.show(describeError(e));
                  }
                },
              },
            }),
          );
        }
        buttons.append(
          el('button', {
            type: 'button',
            text: 'Dismiss',
            attrs: { 'aria-label': `Dismiss: about ${s.about} (“${s.matched}”)` },
            on: {
              click: () => {
                dismissed.add(s.key);
                localStorage.setItem(DISMISSED, JSON.stringify([...dismissed]));
                refreshSuggestions();
              },
            },
          }),
        );
        item.append(buttons);
        list.append(item);
      }
    }
    return { refresh: refreshSuggestions };
  }

  refresh();
  panel.refresh();
  return { refresh, layout, openChooser, isOpen: () => !!chooser.node };
}
