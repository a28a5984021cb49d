// A small accessible multi-select: a button that opens a checkbox list with a type-to-filter box.
// Keyboard: Enter/Space opens, Escape closes and returns focus, Tab moves through the options.
import { el, formatCount, icon } from './dom.js';

export class MultiSelect {
  /** `root` is an empty container with `data-label`; `onChange(values)` fires on every tick. */
  constructor(root, onChange) {
    this.root = root;
    this.label = root.dataset.label;
    this.onChange = onChange;
    this.options = [];
    this.selected = new Set();
    const id = root.id;
    this.button = el('button', {
      type: 'button',
      class: 'btn multi-button',
      'aria-haspopup': 'listbox',
      'aria-expanded': 'false',
      'aria-controls': `${id}-panel`,
      onclick: () => this.toggle(),
    });
    this.filter = el('input', {
      type: 'search',
      class: 'multi-filter',
      placeholder: `Filter ${this.label.toLowerCase()}s…`,
      'aria-label': `Filter ${this.label.toLowerCase()} options`,
      oninput: () => this.renderList(),
    });
    this.list = el('div', { class: 'multi-list', role: 'group', 'aria-label': this.label });
    this.clear = el(
      'button',
      { type: 'button', class: 'link-button', onclick: () => this.set([], true) },
      'Clear',
    );
    this.panel = el(
      'div',
      { class: 'multi-panel', id: `${id}-panel`, hidden: true },
      el('div', { class: 'multi-panel-head' }, this.filter, this.clear),
      this.list,
    );
    root.append(this.button, this.panel);
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.panel.hidden) {
        e.stopPropagation();
        this.close();
        this.button.focus();
      }
    });
    document.addEventListener('pointerdown', (e) => {
      if (!root.contains(e.target)) this.close();
    });
    root.addEventListener('focusout', (e) => {
      if (e.relatedTarget && !root.contains(e.relatedTarget)) this.close();
    });
    this.renderButton();
  }

  /** `options`: [{ value, count?, destructive? }]. */
  setOptions(options) {
    this.options = options;
    if (!this.panel.hidden) this.renderList();
  }

  set(values, notify = false) {
    this.selected = new Set(values);
    this.renderButton();
    if (!this.panel.hidden) this.renderList();
    if (notify) this.onChange([...this.selected]);
  }

  toggle() {
    if (this.panel.hidden) this.open();
    else this.close();
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.renderList();
    this.filter.focus();
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.filter.value = '';
  }

  renderButton() {
    const n = this.selected.size;
    const text = n === 0 ? this.label : n === 1 ? [...this.selected][0] : `${this.label} · ${n}`;
    this.button.replaceChildren(
      el('span', { class: n ? 'multi-value' : '' }, text),
      icon('m4 6 4 4 4-4', 'icon chevron'),
    );
    this.button.classList.toggle('active', n > 0);
    this.button.setAttribute(
      'aria-label',
      n ? `${this.label}: ${[...this.selected].join(', ')}` : `${this.label}: all`,
    );
  }

  renderList() {
    const q = this.filter.value.trim().toLowerCase();
    // Selected values stay listed even when neither the catalogue nor this org knows them (a pasted link).
    const known = new Set(this.options.map((o) => o.value));
    const all = [
      ...this.options,
      ...[...this.selected].filter((v) => !known.has(v)).map((value) => ({ value })),
    ];
    const shown = all.filter((o) => !q || o.value.toLowerCase().includes(q));
    this.list.replaceChildren(
      ...shown.map((o) =>
        el(
          'label',
          { class: 'multi-option' },
          el('input', {
            type: 'checkbox',
            value: o.value,
            checked: this.selected.has(o.value),
            onchange: (e) => {
              if (e.target.checked) this.selected.add(o.value);
              else this.selected.delete(o.value);
              this.renderButton();
              this.onChange([...this.selected]);
            },
          }),
          el(
            'span',
            { class: o.destructive ? 'option-name destructive' : 'option-name', title: o.value },
            o.value,
          ),
          o.count ? el('span', { class: 'option-count' }, formatCount(o.count)) : '',
        ),
      ),
    );
    if (!shown.length) this.list.append(el('p', { class: 'muted multi-empty' }, 'No match'));
  }
}
