// The codebook: a tree of codes with their definitions, the excerpts coded with each, and (for
// owners) rename, move and merge. Used as the codebook page (`main#codebook`) and, through
// `mountCodebook`, inside the document view's `aside#codebook-panel`.

import {
  api, apiAll, isOwner, canWrite, pageBase, el, append, clear, messageArea, describeError, safeColour, uid,
} from './api.js';

/** Fetches the codebook (depth-first list of `{code, path, depth, codings, contrast}`). */
export function loadCodebook() {
  return apiAll('/codebook');
}

/** Ids of `id` and every code inside it, from a depth-first codebook. */
export function descendantIds(nodes, id) {
  const out = new Set();
  const i = nodes.findIndex((n) => n.code.id === id);
  if (i < 0) return out;
  out.add(id);
  const depth = nodes[i].depth;
  for (let j = i + 1; j < nodes.length && nodes[j].depth > depth; j++) out.add(nodes[j].code.id);
  return out;
}

/**
 * A code's count as every count is written: its codings, and contrast codings apart
 * ("15 (+10 contrast)"; docs/findings.md, "Counting codings").
 */
export function countText(node) {
  return node.contrast ? `${node.codings} (+${node.contrast} contrast)` : String(node.codings);
}

/** "15 codings (+10 contrast)", the same count in words. */
function codingsText(node) {
  return `${node.codings} codings${node.contrast ? ` (+${node.contrast} contrast)` : ''}`;
}

/** A small colour square; the colour is decoration, the name is always written beside it. */
export function swatch(colour) {
  return el('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' }, style: { '--c': safeColour(colour) } });
}

/**
 * Mounts the codebook in `container`.
 * options: `data` (an already fetched codebook), `compact` (the document view's side panel),
 * `onChange()` (called after the codebook changed here: rename, move, merge, new code),
 * `onSelect(node)` (called when a code is chosen).
 * Returns `{ refresh(data?), nodes() , select(id)}`.
 */
export function mountCodebook(container, options = {}) {
  const compact = !!options.compact;
  let nodes = options.data || [];
  let selectedId = null;
  let filterText = '';

  clear(container);
  const message = messageArea(container);
  container.classList.add('codebook', compact ? 'codebook-compact' : 'codebook-full');
  const heading = el(compact ? 'h2' : 'h1', { text: 'Codebook', id: uid('codebook-heading') });
  const filter = el('input', {
    type: 'search',
    class: 'codebook-filter',
    placeholder: 'Filter codes…',
    attrs: { 'aria-label': 'Filter codes by name or path' },
  });
  const treeWrap = el('nav', { class: 'code-tree-wrap', attrs: { 'aria-labelledby': heading.id } });
  const details = el('section', { class: 'code-details', attrs: { 'aria-live': 'polite' } });
  const hint = el('p', { class: 'hint', text: 'Choose a code to see its definition and every excerpt coded with it.' });
  details.append(hint);

  const newCodeForm = canWrite && !compact ? buildNewCodeForm() : null;

  if (compact) {
    append(container, heading, filter, treeWrap, details);
  } else {
    const left = el('div', { class: 'codebook-left' }, filter, treeWrap, newCodeForm);
    append(container, el('div', { class: 'codebook-columns' }, left, details));
    container.prepend(heading);
  }

  // Escape hides the definition shown for the focused code (it comes back on the next one).
  treeWrap.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') treeWrap.classList.add('tips-off');
  });
  treeWrap.addEventListener('focusin', () => treeWrap.classList.remove('tips-off'));

  filter.addEventListener('input', () => {
    filterText = filter.value.trim().toLowerCase();
    renderTree();
  });

  function matches(node) {
    if (!filterText) return true;
    const hay = `${node.path} ${node.code.definition || ''}`.toLowerCase();
    return filterText.split(/\s+/).every((w) => hay.includes(w));
  }

  function renderTree() {
    clear(treeWrap);
    const visible = new Set();
    if (filterText) {
      // Show matches and their ancestors, so the path stays readable.
      const byId = new Map(nodes.map((n) => [n.code.id, n]));
      for (const n of nodes) {
        if (!matches(n)) continue;
        let cur = n;
        while (cur && !visible.has(cur.code.id)) {
          visible.add(cur.code.id);
          cur = cur.code.parent ? byId.get(cur.code.parent) : null;
        }
      }
    }
    const shown = filterText ? nodes.filter((n) => visible.has(n.code.id)) : nodes;
    if (shown.length === 0) {
      treeWrap.append(el('p', { class: 'hint', text: nodes.length ? 'No code matches the filter.' : 'The codebook is empty.' }));
      return;
    }
    // Nested lists from the depth-first order.
    const root = el('ul', { class: 'code-tree' });
    const stack = [{ depth: -1, list: root, li: null }];
    for (const node of shown) {
      while (stack.length > 1 && stack[stack.length - 1].depth >= node.depth) stack.pop();
      let parent = stack[stack.length - 1];
      if (parent.li && !parent.childList) {
        parent.childList = el('ul', { class: 'code-tree' });
        parent.li.append(parent.childList);
      }
      const list = parent.li ? parent.childList : root;
      const li = codeItem(node, filterText && !matches(node));
      list.append(li);
      stack.push({ depth: node.depth, list, li, childList: null });
    }
    treeWrap.append(root);
  }

  function codeItem(node, dim) {
    const code = node.code;
    const tipId = `code-tip-${code.id}${compact ? '-p' : ''}`;
    const tip = el('div', { class: 'code-tip', id: tipId, attrs: { role: 'tooltip' } });
    tip.append(el('strong', { text: node.path }));
    tip.append(el('p', { text: code.definition || 'No definition written yet.' }));
    if (code.indicators && code.indicators.length) {
      tip.append(el('p', { class: 'tip-label', text: 'Indicators:' }));
      tip.append(el('ul', {}, code.indicators.map((i) => el('li', { text: i }))));
    }
    const button = el(
      'button',
      {
        type: 'button',
        class: 'code-button' + (dim ? ' dim' : ''),
        dataset: { codeId: code.id },
        attrs: { 'aria-describedby': tipId, 'aria-current': code.id === selectedId ? 'true' : null },
        on: { click: () => select(code.id) },
      },
      swatch(code.colour),
      el('span', { class: 'code-name', text: code.name }),
      el('span', { class: 'code-count', attrs: { 'aria-label': codingsText(node) }, text: countText(node) }),
    );
    if (!code.component) button.append(el('span', { class: 'badge badge-open', text: 'open' }));
    return el('li', { class: 'code-item', dataset: { codeId: code.id } }, el('div', { class: 'code-row' }, button, tip));
  }

  async function select(id) {
    selectedId = id;
    for (const b of treeWrap.querySelectorAll('.code-button')) {
      if (b.dataset.codeId === id) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    const node = nodes.find((n) => n.code.id === id);
    if (!node) {
      clear(details).append(hint);
      return;
    }
    if (options.onSelect) options.onSelect(node);
    renderDetails(node);
  }

  function renderDetails(node) {
    clear(details);
    const code = node.code;
    details.append(
      el('h2', { class: 'code-details-title' }, swatch(code.colour), ' ', el('span', { text: node.path })),
      el('p', { class: 'definition', text: code.definition || 'No definition written yet.' }),
    );
    if (code.indicators && code.indicators.length) {
      details.append(el('h3', { text: 'Indicators' }), el('ul', { class: 'indicators' }, code.indicators.map((i) => el('li', { text: i }))));
    }
    details.append(
      el('p', { class: 'meta' }, code.component ? `Theory component: ${code.component}` : 'Open code (not from the theory)', ` · ${codingsText(node)}`),
    );
    if (isOwner) details.append(ownerTools(node));
    const excerptsBox = el('section', { class: 'excerpts', attrs: { 'aria-label': `Excerpts coded ${node.path}` } });
    details.append(el('h3', { text: 'Coded excerpts' }), excerptsBox);
    loadExcerpts(node, excerptsBox);
  }

  async function loadExcerpts(node, box) {
    box.append(el('p', { class: 'hint', text: 'Loading excerpts…' }));
    let excerpts;
    try {
      excerpts = await apiAll(`/codes/${encodeURIComponent(node.code.id)}/excerpts`);
    } catch (e) {
      clear(box).append(el('p', { class: 'hint', text: 'The excerpts could not be loaded.' }));
      message.show(describeError(e));
      return;
    }
    if (selectedId !== node.code.id) return;
    clear(box);
    if (!excerpts.length) {
      box.append(el('p', { class: 'hint', text: 'Nothing has been coded with this code (or its sub-codes) yet.' }));
      return;
    }
    box.append(el('p', { class: 'meta', text: `${excerpts.length} excerpt${excerpts.length === 1 ? '' : 's'} (this code and its sub-codes)` }));
    const list = el('ol', { class: 'excerpt-list' });
    for (const ex of excerpts) list.append(excerptItem(ex));
    box.append(list);
  }

  function excerptItem(ex) {
    const v = ex.view;
    const c = v.coding;
    const href = `${pageBase}/sources/${encodeURIComponent(c.source)}#coding-${encodeURIComponent(c.id)}`;
    const who = [v.speaker, v.role ? `(${v.role})` : null].filter(Boolean).join(' ');
    const meta = el(
      'p',
      { class: 'excerpt-meta' },
      el('a', { href, text: v.source }),
      who ? ` · ${who}` : '',
      v.dyad ? ` · dyad ${v.dyad}` : v.participant ? ` · ${v.participant}` : '',
      ` · coded by ${c.coder}`,
      v.code_path !== undefined ? ` · ${v.code_path}` : '',
    );
    if (c.contrast) meta.append(' ', el('span', { class: 'badge badge-contrast', text: '≠ contrast' }));
    const before = ex.before ? '…' + ex.before.replace(/^\s+/, '') : '';
    const after = ex.after ? ex.after.replace(/\s+$/, '') + '…' : '';
    const quote = el(
      'blockquote',
      { class: 'excerpt-text' + (c.contrast ? ' contrast' : '') },
      el('span', { class: 'context', text: before }),
      el('em', { class: 'excerpt-quote', text: v.quote }),
      el('span', { class: 'context', text: after }),
    );
    const item = el('li', { class: 'excerpt' }, meta, quote);
    if (c.memo) item.append(el('p', { class: 'excerpt-memo' }, el('span', { class: 'tip-label', text: 'Memo: ' }), c.memo));
    return item;
  }

  function ownerTools(node) {
    const code = node.code;
    const box = el('section', { class: 'owner-tools', attrs: { 'aria-label': 'Change this code (owners)' } });
    box.append(el('h3', { text: 'Change this code' }));
    const inside = descendantIds(nodes, code.id);
    const others = nodes.filter((n) => !inside.has(n.code.id));

    // Rename.
    const nameId = uid('rename');
    const nameInput = el('input', { type: 'text', id: nameId, value: code.name, required: true, autocomplete: 'off' });
    const renameForm = el(
      'form',
      { class: 'inline-form' },
      el('label', { attrs: { for: nameId }, text: 'Name' }),
      nameInput,
      el('button', { type: 'submit', text: 'Rename' }),
    );
    renameForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = nameInput.value.trim();
      if (!name || name === code.name) return;
      if (name.includes('/')) {
        message.show('A code name cannot contain "/".');
        return;
      }
      await change(() => api('PATCH', `/codes/${encodeURIComponent(code.id)}`, { version: code.version, name }), `Renamed to '${name}'.`, code.id);
    });

    // Move.
    const moveId = uid('move');
    const moveSelect = el('select', { id: moveId });
    moveSelect.append(el('option', { value: '', text: '(top level)' }));
    for (const n of others) moveSelect.append(el('option', { value: n.code.id, text: n.path }));
    moveSelect.value = code.parent || '';
    const moveForm = el(
      'form',
      { class: 'inline-form' },
      el('label', { attrs: { for: moveId }, text: 'Move under' }),
      moveSelect,
      el('button', { type: 'submit', text: 'Move…' }),
    );
    moveForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const parent = moveSelect.value || null;
      if (parent === (code.parent || null)) {
        message.show('The code is already there.', 'info');
        return;
      }
      const where = parent ? `under '${pathOf(parent)}'` : 'to the top level';
      confirmStep(moveForm, `Move '${node.path}' ${where}? Its sub-codes and codings go with it.`, 'Move', () =>
        change(() => api('PATCH', `/codes/${encodeURIComponent(code.id)}`, { version: code.version, parent }), `Moved '${code.name}' ${where}.`, code.id),
      );
    });

    // Merge.
    const mergeId = uid('merge');
    const mergeSelect = el('select', { id: mergeId });
    mergeSelect.append(el('option', { value: '', text: '— choose a code —' }));
    for (const n of others) mergeSelect.append(el('option', { value: n.code.id, text: n.path }));
    const mergeForm = el(
      'form',
      { class: 'inline-form' },
      el('label', { attrs: { for: mergeId }, text: 'Merge into' }),
      mergeSelect,
      el('button', { type: 'submit', text: 'Merge…' }),
    );
    mergeForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const into = mergeSelect.value;
      if (!into) {
        message.show('Choose the code to merge into.');
        mergeSelect.focus();
        return;
      }
      const target = pathOf(into);
      confirmStep(
        mergeForm,
        `Merge '${node.path}' into '${target}'? Its ${codingsText(node)}, its memos and its sub-codes move to '${target}', and '${node.path}' is deleted. This cannot be undone.`,
        'Merge',
        async () => {
          try {
            const result = await api('POST', `/codes/${encodeURIComponent(code.id)}/merge`, { into });
            message.show(`Merged: ${result && result.moved !== undefined ? result.moved : 0} codings moved to '${target}'.`, 'ok');
            await afterChange(into);
          } catch (e) {
            message.show(describeError(e));
          }
        },
      );
    });

    append(box, renameForm, moveForm, mergeForm);
    return box;
  }

  /** Replaces a form's buttons by a confirmation until answered. */
  function confirmStep(form, text, verb, action) {
    const existing = form.querySelector('.confirm');
    if (existing) existing.remove();
    const ok = el('button', { type: 'button', class: 'danger', text: verb });
    const cancel = el('button', { type: 'button', text: 'Cancel' });
    const box = el('div', { class: 'confirm', attrs: { role: 'group', 'aria-label': 'Confirm' } }, el('p', { text }), ok, ' ', cancel);
    const done = () => {
      box.remove();
      const submit = form.querySelector('button[type="submit"]');
      if (submit) submit.focus();
    };
    ok.addEventListener('click', async () => {
      box.remove();
      await action();
    });
    cancel.addEventListener('click', done);
    box.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        done();
      }
    });
    form.append(box);
    ok.focus();
  }

  function pathOf(id) {
    const n = nodes.find((x) => x.code.id === id);
    return n ? n.path : id;
  }

  async function change(call, okText, reselect) {
    try {
      await call();
      message.show(okText, 'ok');
      await afterChange(reselect);
    } catch (e) {
      message.show(describeError(e));
    }
  }

  async function afterChange(reselect) {
    await refresh();
    if (reselect) select(reselect);
    if (options.onChange) options.onChange();
  }

  function buildNewCodeForm() {
    const nameId = uid('new-code');
    const parentId = uid('new-parent');
    const nameInput = el('input', { type: 'text', id: nameId, required: true, autocomplete: 'off' });
    const parentSelect = el('select', { id: parentId });
    const form = el(
      'form',
      { class: 'new-code-form card' },
      el('h2', { text: 'New open code' }),
      el('label', { attrs: { for: nameId }, text: 'Name' }),
      nameInput,
      el('label', { attrs: { for: parentId }, text: 'Under' }),
      parentSelect,
      el('button', { type: 'submit', text: 'Add code' }),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = nameInput.value.trim();
      if (!name) return;
      try {
        const code = await api('POST', '/codes', { name, parent: parentSelect.value || null });
        nameInput.value = '';
        message.show(`Added '${name}'.`, 'ok');
        await afterChange(code && code.id);
      } catch (e) {
        message.show(describeError(e));
      }
    });
    form.fillParents = () => {
      const keep = parentSelect.value;
      clear(parentSelect).append(el('option', { value: '', text: '(top level)' }));
      for (const n of nodes) parentSelect.append(el('option', { value: n.code.id, text: n.path }));
      parentSelect.value = nodes.some((n) => n.code.id === keep) ? keep : '';
    };
    return form;
  }

  async function refresh(data) {
    if (data) nodes = data;
    else {
      try {
        nodes = await loadCodebook();
      } catch (e) {
        message.show(describeError(e));
        return;
      }
    }
    renderTree();
    if (newCodeForm) newCodeForm.fillParents();
    if (selectedId) {
      const node = nodes.find((n) => n.code.id === selectedId);
      if (!node) {
        selectedId = null;
        clear(details).append(hint);
      } else {
        // Counts may have changed; update the title line without refetching excerpts.
        const meta = details.querySelector('.meta');
        if (meta) meta.textContent = `${node.code.component ? `Theory component: ${node.code.component}` : 'Open code (not from the theory)'} · ${codingsText(node)}`;
      }
    }
  }

  let ready;
  if (options.data) {
    renderTree();
    if (newCodeForm) newCodeForm.fillParents();
    ready = Promise.resolve();
  } else ready = refresh();

  return {
    refresh,
    nodes: () => nodes,
    select,
    ready,
  };
}

// The codebook page.
const main = document.querySelector('main#codebook');
if (main) {
  const controller = mountCodebook(main, {});
  const wanted = new URLSearchParams(location.search).get('code');
  if (wanted) controller.ready.then(() => controller.select(wanted));
}
