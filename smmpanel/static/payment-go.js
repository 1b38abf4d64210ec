// Sends the browser on to the payment provider: posts its form, or follows its link.
(function () {
  var form = document.getElementById("gateway-form");
  if (form) { form.submit(); return; }
  var link = document.getElementById("gateway-link");
  if (link) { window.location.assign(link.href); }
})();
