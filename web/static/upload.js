/* The "add a paper" form, lighter on a phone's data (web/templates/paper_new.html).
 *
 * Progressive enhancement: without this script the form posts as it is and the server
 * re-encodes every upload. With it, a big JPEG, PNG or WebP photo is shrunk on the phone
 * (long side at most 2000 px, a JPEG of at most 1 MB) before it leaves, and the same form
 * fields go with XMLHttpRequest, showing a progress bar and, when the connection drops, a
 * button that sends the same prepared data again. The server still checks and cleans
 * everything: nothing here is a security measure.
 *
 * Every word shown comes from the form's data-* attributes, translated by the template.
 */
(function () {
  "use strict";

  const MAX_SIDE = 2000; // px: a paper stays legible on screen and printed at A5
  const MAX_PHOTO_BYTES = 1000 * 1000; // a minute or less on a slow 3G uplink
  const QUALITIES = [0.85, 0.75, 0.65, 0.55, 0.45];
  const SHRINKABLE = new Set(["image/jpeg", "image/png", "image/webp"]);
  const FORM_SLACK = 1024 * 1024; // the server takes the file limit plus 1 MiB of form
  // A link that goes silent mid-upload may never say so: after this long without a byte
  // sent, the person is offered to send again (the server cannot have kept a half body).
  const STALL_MS = 60 * 1000;

  function enhance() {
    const form = document.getElementById("add-paper-form");
    if (!form || !window.FormData || !window.XMLHttpRequest || !window.DOMParser) {
      return;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.dataset.busy) {
        return;
      }
      form.dataset.busy = "1";
      submit(form).catch(() => {
        // Something this browser could not do: let the form go the plain way.
        form.submit();
      });
    });
  }

  async function submit(form) {
    const status = statusBox(form);
    const save = form.querySelector("button[type=submit]");
    save.disabled = true;
    status.preparing();
    const data = await preparedData(form);
    const tooBig = tooLarge(data, Number(form.dataset.maxBytes));
    if (tooBig) {
      status.remove();
      save.disabled = false;
      delete form.dataset.busy;
      showProblem(form, form.dataset.tooLarge);
      return;
    }
    const send = () => {
      status.sending();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "text/html");
      let moved = Date.now();
      const watchdog = setInterval(() => {
        if (Date.now() - moved > STALL_MS) {
          xhr.abort();
        }
      }, 5000);
      xhr.upload.addEventListener("progress", (event) => {
        moved = Date.now();
        if (event.lengthComputable) {
          status.progress(event.loaded / event.total);
        }
      });
      // Once the body is sent, the server is at work: waiting for it is never a stall.
      xhr.upload.addEventListener("loadend", () => clearInterval(watchdog));
      xhr.addEventListener("loadend", () => clearInterval(watchdog));
      xhr.addEventListener("load", () => {
        const html = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html");
        if (xhr.status >= 500 || !html) {
          // The server could not finish (storage down, say): its own words if it sent
          // any, and the same data ready to send again.
          failed(html ? problemIn(xhr.responseText) : "");
          return;
        }
        // The page the server answered: the list with its "saved" notice after the
        // redirect, or this form again with the refusal shown beside the field.
        showPage(xhr.responseText, xhr.responseURL);
      });
      xhr.addEventListener("error", () => failed(""));
      xhr.addEventListener("abort", () => failed(""));
      xhr.send(data);
    };
    const failed = (said) => {
      save.disabled = false;
      delete form.dataset.busy;
      status.failed(send, said || form.dataset.failed);
    };
    send();
  }

  /* The form's fields in their order, each chosen photo replaced by its shrunk copy. */
  async function preparedData(form) {
    const data = new FormData();
    for (const [name, value] of new FormData(form)) {
      if (value instanceof File && value.name) {
        const file = await shrunk(value);
        data.append(name, file, file.name);
      } else {
        data.append(name, value);
      }
    }
    return data;
  }

  /* A copy of `file` at most MAX_SIDE px long and about MAX_PHOTO_BYTES, upright; or the
   * file itself: a PDF, a small photo, or one this browser cannot decode (HEIC). */
  async function shrunk(file) {
    if (!SHRINKABLE.has(file.type) || typeof createImageBitmap !== "function") {
      return file;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return file;
    }
    try {
      const long = Math.max(bitmap.width, bitmap.height);
      if (long <= MAX_SIDE && file.size <= MAX_PHOTO_BYTES) {
        return file;
      }
      const blob = await encoded(bitmap, Math.min(1, MAX_SIDE / long));
      if (!blob || (long <= MAX_SIDE && blob.size >= file.size)) {
        return file;
      }
      return new File([blob], jpegName(file.name), {
        type: "image/jpeg",
        lastModified: file.lastModified,
      });
    } finally {
      bitmap.close();
    }
  }

  /* The bitmap as a JPEG at `scale`, quality lowered from 0.85 until it fits
   * MAX_PHOTO_BYTES; then smaller, for a photo of pure noise. */
  async function encoded(bitmap, scale) {
    for (;;) {
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      const context = canvas.getContext("2d");
      if (!context) {
        return null;
      }
      // A JPEG has no transparency: white beneath it, as the server flattens it.
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      let blob = null;
      for (const quality of QUALITIES) {
        blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
        if (!blob || blob.size <= MAX_PHOTO_BYTES) {
          return blob;
        }
      }
      if (Math.max(canvas.width, canvas.height) <= MAX_SIDE / 2) {
        return blob;
      }
      canvas.width = canvas.height = 0; // let the phone have that memory back now
      scale *= 0.75;
    }
  }

  function jpegName(name) {
    const dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name || "photo") + ".jpg";
  }

  /* True when the server would refuse the body: a file over the limit, or the whole. */
  function tooLarge(data, maxBytes) {
    if (!maxBytes) {
      return false;
    }
    let total = 0;
    for (const value of data.values()) {
      const size = value instanceof Blob ? value.size : value.length;
      if (value instanceof Blob && size > maxBytes) {
        return true;
      }
      total += size;
    }
    return total > maxBytes + FORM_SLACK;
  }

  /* The refusal the server would give, shown the way it shows it (web/templates/_form.html). */
  function showProblem(form, text) {
    for (const old of document.querySelectorAll("#error-summary, #camera-error")) {
      old.remove();
    }
    const summary = document.createElement("div");
    summary.className = "error-summary";
    summary.id = "error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    summary.setAttribute("aria-labelledby", "error-summary-title");
    const title = document.createElement("h2");
    title.id = "error-summary-title";
    title.textContent = form.dataset.problem;
    const link = document.createElement("a");
    link.href = "#camera";
    link.textContent = text;
    const list = document.createElement("ul");
    list.append(document.createElement("li"));
    list.firstChild.append(link);
    summary.append(title, list);
    const heading = document.querySelector("main h1");
    (heading || form).before(summary);
    const camera = form.querySelector("#camera");
    if (camera) {
      const beside = document.createElement("p");
      beside.className = "field-error";
      beside.id = "camera-error";
      beside.textContent = text;
      camera.before(beside);
      camera.setAttribute("aria-invalid", "true");
      camera.setAttribute("aria-describedby", "camera-error");
    }
    summary.focus();
  }

  /* The status line, progress bar and retry button, under the form's button. */
  function statusBox(form) {
    const old = form.querySelector(".upload-status");
    if (old) {
      old.remove();
    }
    const box = document.createElement("div");
    box.className = "upload-status";
    const text = document.createElement("p");
    text.id = "upload-text";
    text.setAttribute("role", "status");
    const bar = document.createElement("progress");
    bar.id = "upload-progress";
    bar.max = 1;
    bar.setAttribute("aria-labelledby", "upload-text");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.id = "retry";
    retry.className = "big";
    retry.textContent = form.dataset.retry;
    retry.hidden = true;
    box.append(text, bar, retry);
    form.querySelector("button[type=submit]").after(box);
    return {
      preparing() {
        text.textContent = form.dataset.preparing;
        bar.removeAttribute("value"); // indeterminate: the time depends on the phone
      },
      sending() {
        text.textContent = form.dataset.sending;
        text.className = "";
        bar.hidden = false;
        bar.value = 0;
        retry.hidden = true;
      },
      progress(fraction) {
        bar.value = fraction;
      },
      failed(again, said) {
        text.textContent = said;
        text.className = "failed";
        bar.hidden = true;
        retry.hidden = false;
        retry.onclick = () => {
          form.dataset.busy = "1";
          form.querySelector("button[type=submit]").disabled = true;
          again();
        };
        retry.focus();
      },
      remove() {
        box.remove();
      },
    };
  }

  /* What an error page of ours says (the first problem of its summary), or "". */
  function problemIn(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const problem = page.querySelector("#error-summary li, #error-summary p");
    return problem ? problem.textContent.trim() : "";
  }

  /* Show a page the server sent as if the browser had loaded it. Following the redirect
   * again with location.assign would cost another round trip and lose the one-time
   * "saved" notice, which the XMLHttpRequest has already fetched. */
  function showPage(html, url) {
    const page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.documentElement.lang = page.documentElement.lang;
    document.documentElement.dir = page.documentElement.dir;
    document.body.replaceWith(document.adoptNode(page.body));
    if (url && url !== location.href) {
      history.replaceState(null, "", url);
    }
    window.scrollTo(0, 0);
    const summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    enhance();
  }

  enhance();
})();
