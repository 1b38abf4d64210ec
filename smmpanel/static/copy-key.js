// The copy button of a new API key. Without JavaScript the button stays hidden and the key is
// plain text to select; where the clipboard is refused (plain http), the key is selected instead.
(function () {
  var button = document.getElementById("copy-key");
  var key = document.getElementById("new-key-value");
  if (!button || !key) { return; }

  function selectKey() {
    var range = document.createRange();
    range.selectNodeContents(key);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = button.dataset.select;
  }

  button.addEventListener("click", function () {
    if (!navigator.clipboard || !window.isSecureContext) { selectKey(); return; }
    navigator.clipboard.writeText(key.textContent.trim()).then(
      function () { button.textContent = button.dataset.copied; },
      selectKey
    );
  });
  button.hidden = false;
})();
