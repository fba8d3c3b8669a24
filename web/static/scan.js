/* The accompaniment page (web/templates/sharing/accompaniment.html): reading a
 * professional's QR code with the phone's camera, in the page, where the browser has a
 * QR reader of its own (the BarcodeDetector API). Elsewhere the button stays hidden: the
 * phone's camera app reads the code and opens /accompaniment?code=…, or the code is typed.
 * The server checks the code as if it were typed: nothing here is a security measure.
 *
 * Every word shown comes from the button's data-* attributes, translated by the template.
 */
(function () {
  "use strict";

  const GIVE_UP_MS = 60 * 1000; // the camera is not left on for long
  const LOOK_EVERY_MS = 250;

  /* The code a QR code holds: the share link's `code`, or the bare code. */
  function codeIn(text) {
    try {
      const code = new URL(text, window.location.href).searchParams.get("code");
      if (code) {
        return code.slice(0, 64);
      }
    } catch (error) {
      // Not a link: a bare code, perhaps.
    }
    const bare = text.trim();
    return /^[A-Za-z0-9]{4,64}$/.test(bare) ? bare : null;
  }

  async function enhance() {
    const button = document.getElementById("scan-code");
    const input = document.getElementById("professional_code");
    if (!button || !input || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
      return;
    }
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) {
        return;
      }
    } catch (error) {
      return;
    }
    let scanning = null;
    button.hidden = false;
    button.addEventListener("click", () => {
      if (scanning) {
        scanning.stop();
        return;
      }
      scanning = scan(button, input);
      scanning.done.finally(() => {
        scanning = null;
      });
    });
  }

  function scan(button, input) {
    const video = document.getElementById("scan-video");
    const status = document.getElementById("scan-status");
    const label = button.querySelector(".label");
    const words = label.textContent;
    let stream = null;
    let stopped = false;
    const stop = () => {
      stopped = true;
      if (stream) {
        stream.getTracks().forEach((track) => track.stop());
      }
      video.srcObject = null;
      video.hidden = true;
      label.textContent = words;
    };
    const done = (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment" },
          audio: false,
        });
      } catch (error) {
        status.textContent = button.dataset.noCamera;
        return;
      }
      if (stopped) {
        stop();
        return;
      }
      label.textContent = button.dataset.stop;
      status.textContent = button.dataset.aim;
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      const started = Date.now();
      while (!stopped && Date.now() - started < GIVE_UP_MS) {
        let found = [];
        try {
          found = await detector.detect(video);
        } catch (error) {
          // A frame not ready yet: look again.
        }
        for (const each of found) {
          const code = codeIn(each.rawValue || "");
          if (code) {
            stop();
            input.value = code;
            input.focus();
            status.textContent = button.dataset.found;
            return;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
      }
      if (!stopped) {
        status.textContent = button.dataset.notFound;
      }
      stop();
    })();
    return { stop, done };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
