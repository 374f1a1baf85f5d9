// Select text in a unit of the review page to fill the "mask a span" form with the unit and the
// character offsets of the selection within that unit's text.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("add-span");
  const units = document.getElementById("units");
  if (!form || !units) return;
  const label = document.getElementById("selection");
  const button = document.getElementById("add-span-button");

  function offsetIn(container, node, offset) {
    const range = document.createRange();
    range.selectNodeContents(container);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  document.addEventListener("selectionchange", () => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    const start = range.startContainer.parentElement && range.startContainer.parentElement.closest(".unit-text");
    const end = range.endContainer.parentElement && range.endContainer.parentElement.closest(".unit-text");
    if (!start || start !== end) return;
    const unit = start.closest(".unit");
    const from = offsetIn(start, range.startContainer, range.startOffset);
    const to = offsetIn(start, range.endContainer, range.endOffset);
    if (to <= from) return;
    form.elements.unit.value = unit.dataset.unit;
    form.elements.field.value = unit.dataset.field;
    form.elements.start.value = from;
    form.elements.end.value = to;
    const where = unit.dataset.field === "title" ? "the title" : "unit " + unit.dataset.unit;
    label.textContent = "Selected: \u201c" + start.textContent.slice(from, to) + "\u201d in " + where;
    button.disabled = false;
  });
});
