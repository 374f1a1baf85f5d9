// Upload with a progress bar. Without script the form posts as usual; with it, the same request
// goes through XMLHttpRequest so the browser can report how much has been sent.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (!form) return;
  const bar = document.getElementById("progress");
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", (event) => {
    const file = form.elements.file.files[0];
    if (!file) return;
    const limit = Number(form.dataset.limit);
    if (limit && file.size > limit) {
      event.preventDefault();
      status.textContent = "This file is larger than the limit of " + Math.round(limit / 1048576) + " MiB.";
      return;
    }
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    form.querySelector("button").disabled = true;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = "Sent " + bar.value + "%";
      }
    });
    request.upload.addEventListener("load", () => { status.textContent = "Sent; reading and encrypting the document…"; });
    request.addEventListener("load", () => {
      if (request.status < 400 && request.responseURL) {
        window.location.assign(request.responseURL);
        return;
      }
      form.querySelector("button").disabled = false;
      const page = new DOMParser().parseFromString(request.responseText, "text/html");
      const message = page.querySelector(".error");
      status.textContent = message ? message.textContent : "The upload failed (" + request.status + ").";
    });
    request.addEventListener("error", () => {
      form.querySelector("button").disabled = false;
      status.textContent = "The connection failed; nothing was stored. Try again.";
    });
    request.send(new FormData(form));
  });
});
