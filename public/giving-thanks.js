/* global document, location, sessionStorage, setTimeout */
// The thank-you page says "processing" until Stripe's webhook has recorded the gift: look again
// every few seconds, for a minute at most.
(function () {
  var processing = document.querySelector('[data-status="processing"]');
  var key = 'haven-thanks-checks:' + location.search;
  if (!processing) {
    sessionStorage.removeItem(key);
    return;
  }
  var checks = Number(sessionStorage.getItem(key) || '0');
  if (checks >= 20) return;
  setTimeout(function () {
    sessionStorage.setItem(key, String(checks + 1));
    location.reload();
  }, 3000);
})();
