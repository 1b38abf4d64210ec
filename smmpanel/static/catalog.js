// The operator's catalogue: a box in the table's head checks or clears every box of the page.
// Without JavaScript the box stays hidden and each row is checked on its own.
// The delete button asks first (its form holds other actions, so confirm.js cannot).
(function () {
  var button = document.getElementById("delete-checked");
  if (!button) { return; }
  button.addEventListener("click", function (event) {
    if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });
})();
(function () {
  var all = document.getElementById("check-all");
  if (!all) { return; }
  var boxes = document.querySelectorAll('#services input[name="service"]');
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();
