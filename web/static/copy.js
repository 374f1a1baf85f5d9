// The copy button beside a secret shown once. Without script the button stays hidden and the
// secret is selected and copied by hand; with it, one click copies the text of the code it names.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const code = document.getElementById(button.dataset.copy);
    if (!code) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = code.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);  // a secure context only (https, or loopback)
      } catch (error) {
        const range = document.createRange();  // elsewhere: select it, and let the browser copy
        range.selectNodeContents(code);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand("copy");
      }
      button.textContent = "Copied";
    });
  }
});
