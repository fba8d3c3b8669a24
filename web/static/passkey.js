/* Passkeys (web/templates/passkeys.html, and the second factor's page): asks the server for
 * the WebAuthn options, lets the browser talk to the authenticator, and posts its answer in
 * the page's own form. The server checks everything (sharing/passkeys.py): nothing here is
 * a security measure. Without this file, or in a browser without passkeys, the forms stay
 * hidden and the code of the authenticator app works as before.
 *
 * Every word shown comes from data-* attributes, translated by the template.
 */
(function () {
  "use strict";

  /* base64url (RFC 4648 §5, no padding), as the options and py_webauthn speak it. */
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = window.atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map((item) => Object.assign({}, item, { id: toBytes(item.id) }));
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  /* The credential as JSON (the shape of WebAuthn's toJSON(), which older browsers lack). */
  function answer(credential) {
    const response = credential.response;
    const said = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (credential.authenticatorAttachment) {
      said.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      said.response.attestationObject = toText(response.attestationObject);
      said.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      said.response.authenticatorData = toText(response.authenticatorData);
      said.response.signature = toText(response.signature);
      if (response.userHandle) {
        said.response.userHandle = toText(response.userHandle);
      }
    }
    return said;
  }

  async function ceremony(form) {
    const token = form.querySelector("input[name=csrf_token]").value;
    const asked = await fetch(form.dataset.options, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    if (!asked.ok) {
      throw new Error("options: " + asked.status);
    }
    const json = await asked.json();
    const credential =
      form.dataset.passkey === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(json) })
        : await navigator.credentials.get({ publicKey: requestOptions(json) });
    if (!credential) {
      throw new Error("no credential");
    }
    return JSON.stringify(answer(credential));
  }

  function enhance() {
    const form = document.getElementById("passkey-form");
    if (!form || !window.PublicKeyCredential || !navigator.credentials) {
      return;
    }
    const status = document.getElementById("passkey-status");
    const field = form.querySelector("input[name=credential]");
    const button = form.querySelector("button[type=submit]");
    const section = document.getElementById("passkey-use");
    const unavailable = document.getElementById("passkey-unavailable");
    if (section) {
      section.hidden = false;
    }
    if (unavailable) {
      unavailable.hidden = true;
    }
    form.hidden = false;
    let busy = false;
    form.addEventListener("submit", (event) => {
      if (field.value) {
        return; // the authenticator has answered: the form goes to the server
      }
      event.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      button.disabled = true;
      status.textContent = "";
      ceremony(form)
        .then((text) => {
          field.value = text;
          form.submit();
        })
        .catch(() => {
          status.textContent = status.dataset.failed;
          busy = false;
          button.disabled = false;
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
