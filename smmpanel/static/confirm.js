// Asks before a form marked data-confirm="<question>" is sent. Without JavaScript the form is
// sent at once, as it always was.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
