/* global document */
// The giving form's fields that apply only to some choices (data-show-when="radio=value": the typed
// amount under "Another amount", the months of a monthly gift, the display name of a donor shown by
// name) are hidden, and disabled so they are not sent, while their choice is not made. The server
// renders them hidden already; without this script a noscript stylesheet shows them all and the
// server ignores what does not apply.
(function () {
  var form = document.querySelector('form.give-form');
  if (!form) return;
  var reveals = form.querySelectorAll('[data-show-when]');

  function applies(reveal) {
    var when = reveal.getAttribute('data-show-when').split('=');
    var chosen = form.querySelector('input[name="' + when[0] + '"]:checked');
    return chosen !== null && chosen.value === when[1];
  }

  function show(reveal, shown) {
    reveal.hidden = !shown;
    var fields = reveal.querySelectorAll('input, select, textarea');
    for (var i = 0; i < fields.length; i++) fields[i].disabled = !shown;
  }

  // As rendered: what the server showed (a choice made, an error to fix) stays until a choice changes.
  for (var i = 0; i < reveals.length; i++) show(reveals[i], !reveals[i].hidden);

  // Typing an amount under "Another amount" chooses it (shown with a suggested amount still chosen
  // after the server asked which was meant).
  var typed = document.getElementById('customAmount');
  var other = form.querySelector('input[name="amount"][value="other"]');
  if (typed && other) {
    typed.addEventListener('input', function () {
      if (typed.value.trim() !== '') other.checked = true;
    });
  }

  form.addEventListener('change', function (event) {
    var target = event.target;
    if (!target || target.type !== 'radio') return;
    for (var j = 0; j < reveals.length; j++) {
      if (reveals[j].getAttribute('data-show-when').split('=')[0] === target.name) show(reveals[j], applies(reveals[j]));
    }
  });
})();
