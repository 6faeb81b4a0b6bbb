/* global document, navigator, window */
// "Copy link" on the share buttons (views/partials/share-links.hbs): copies the link's own address
// instead of following it. Without this script, or without clipboard access, it stays a plain link.
(function () {
  'use strict';
  function bind(link) {
    if (link.dataset.copyBound) return;
    link.dataset.copyBound = '1';
    link.addEventListener('click', function (event) {
      if (!navigator.clipboard || !navigator.clipboard.writeText) return;
      event.preventDefault();
      navigator.clipboard.writeText(link.href).then(function () {
        var section = link.closest('.share-links');
        var status = section && section.querySelector('[data-copy-status]');
        var label = link.dataset.copied || '';
        if (status) status.textContent = label;
        link.textContent = label;
      }, function () {
        window.location.href = link.href;
      });
    });
  }
  function start() {
    document.querySelectorAll('a[data-copy-link]').forEach(bind);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
