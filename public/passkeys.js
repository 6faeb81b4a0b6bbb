/* global document, window, fetch, location, SimpleWebAuthnBrowser */
// Passkey ceremonies (WebAuthn) for the second sign-in step and for enrolment: ask Haven for the
// options, let the browser talk to the authenticator (SimpleWebAuthnBrowser, served by Haven from
// @simplewebauthn/browser), send the answer back, then go where Haven says. A file, not an inline
// script: the Content-Security-Policy allows scripts from Haven's own origin only.
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = {};
        try {
          json = JSON.parse(text);
        } catch {
          // An error page (HTML): the message below says something went wrong.
        }
        if (!res.ok) throw new Error(typeof json.error === 'string' ? json.error : '');
        return json;
      });
    });
  }

  function wire(form, ceremony) {
    var error = form.querySelector('[data-passkey-error]');
    var button = form.querySelector('button[type="submit"]');
    function say(message) {
      if (!error) return;
      error.textContent = message;
      error.hidden = false;
    }
    if (!window.PublicKeyCredential || typeof SimpleWebAuthnBrowser === 'undefined') {
      say(form.getAttribute('data-unsupported'));
      if (button) button.disabled = true;
      return;
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (error) error.hidden = true;
      if (button) button.disabled = true;
      ceremony().then(
        function (result) {
          location.assign(result.redirect);
        },
        function (err) {
          if (button) button.disabled = false;
          // NotAllowedError: the person cancelled, or the device timed out.
          say(err && err.name === 'NotAllowedError' ? form.getAttribute('data-cancelled') : (err && err.message) || form.getAttribute('data-failed'));
        },
      );
    });
  }

  document.querySelectorAll('form[data-passkey="register"]').forEach(function (form) {
    wire(form, function () {
      return post(form.getAttribute('data-options'))
        .then(function (options) {
          return SimpleWebAuthnBrowser.startRegistration({ optionsJSON: options });
        })
        .then(function (response) {
          var name = form.querySelector('[name="name"]');
          return post(form.getAttribute('action'), { response: response, name: name ? name.value : '' });
        });
    });
  });

  document.querySelectorAll('form[data-passkey="authenticate"]').forEach(function (form) {
    wire(form, function () {
      return post(form.getAttribute('data-options'))
        .then(function (options) {
          return SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options });
        })
        .then(function (response) {
          var next = form.querySelector('[name="next"]');
          return post(form.getAttribute('action'), { response: response, next: next ? next.value : undefined });
        });
    });
  });
})();
