// Keys on the review page's group list: j or n the next group, k or p the previous one, a accepts
// the current group (as chosen in its row), r rejects it after a confirmation. Keys typed into a
// field, or with a modifier, are left alone.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const rows = Array.from(document.querySelectorAll("#groups tr.group"));
  if (!rows.length) return;
  let current = 0;

  function select(index) {
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("current", i === current));
    rows[current].focus({preventScroll: true});
  }
  rows.forEach((row, i) => row.addEventListener("focus", () => {
    current = i;
    rows.forEach((r, j) => r.classList.toggle("current", j === i));
  }));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && target.closest && target.closest("input, select, textarea, button")) return;
    const row = rows[current];
    switch (event.key) {
      case "j": case "n": select(current + 1); break;
      case "k": case "p": select(current - 1); break;
      case "a": row.querySelector("form.accept").submit(); break;
      case "r": {
        const form = row.querySelector("form.reject");
        const what = "Reject \u201c" + row.dataset.text + "\u201d \u00d7" + row.dataset.count +
          ": every one stays unmasked for investigators. I understand.";
        if (!window.confirm(what)) return;
        form.elements.confirm.checked = true;
        form.submit();
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
  select(0);
});
