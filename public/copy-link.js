/* global document, navigator */
// The share box's "Copy the link" button: shown only where the browser can copy (the links beside
// it work without script), it copies its data-copy-link and says so in the status beside it.
(function () {
  var buttons = document.querySelectorAll('[data-copy-link]');
  if (!navigator.clipboard) return;
  Array.prototype.forEach.call(buttons, function (button) {
    var status = document.getElementById(button.getAttribute('aria-describedby') || '');
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy-link')).then(
        function () {
          if (status) status.textContent = button.getAttribute('data-copied') || '';
        },
        function () {
          if (status) status.textContent = button.getAttribute('data-copy-failed') || '';
        },
      );
    });
  });
})();
