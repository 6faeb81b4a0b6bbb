/* global document */
// Typing an amount under "Another amount" chooses "Another amount" (the $50 preset is checked by
// default). Without this script the server refuses a preset with a different typed amount and asks.
(function () {
  var typed = document.getElementById('customAmount');
  var other = document.querySelector('input[name="amount"][value="other"]');
  if (!typed || !other) return;
  typed.addEventListener('input', function () {
    if (typed.value.trim() !== '') other.checked = true;
  });
})();
