// The audio of a call beside its turns: the turn under playback is highlighted, a click on a turn
// seeks the audio there. Turns are #turn-N (document page) or .unit[data-unit=N] (review page).
"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("player");
  if (!box) return;
  const id = box.dataset.document;
  const answer = await fetch("/documents/" + encodeURIComponent(id) + "/timings", { credentials: "same-origin" });
  if (!answer.ok) return;
  const found = await answer.json();
  if (!found.audio) return;
  box.hidden = false;
  const hint = document.getElementById("player-hint");
  if (!found.playable) {
    hint.textContent = "The audio of this call is not available to you: voices or names in it stay masked for you.";
    return;
  }
  const audio = document.getElementById("player-audio");
  audio.src = "/documents/" + encodeURIComponent(id) + "/audio";
  audio.hidden = false;
  const element = (n) => document.getElementById("turn-" + n)
    || document.querySelector('.unit[data-unit="' + n + '"][data-field="text"]');
  const timed = found.turns.filter((t) => t[1] !== null && element(t[0]));
  const turns = timed.map(([n, start, end], i) => ({
    el: element(n),
    start: start / 1000,
    end: end !== null ? end / 1000 : (i + 1 < timed.length ? timed[i + 1][1] / 1000 : Infinity),
  }));
  const highlight = () => {
    const now = audio.currentTime;
    let current = null;
    for (const t of turns) if (now >= t.start && now < t.end) current = t;
    for (const t of turns) t.el.classList.toggle("playing", t === current);
    if (current && !audio.paused) current.el.scrollIntoView({ block: "nearest" });
  };
  for (const t of turns) {
    t.el.classList.add("seekable");
    t.el.title = "Play from here";
    t.el.addEventListener("click", () => {
      if (String(window.getSelection() || "")) return; // selecting text to mask it, not seeking
      audio.currentTime = t.start;
      highlight();
      audio.play().catch(() => {}); // a browser may refuse to play; the seek stands
    });
  }
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
});
