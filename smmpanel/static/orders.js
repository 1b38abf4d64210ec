// The operator's order list: a box in the table's head checks or clears every box of the page.
// Without JavaScript the box stays hidden and each row is checked on its own.
(function () {
  var all = document.getElementById("check-all");
  if (!all) { return; }
  var boxes = document.querySelectorAll('#orders input[name="order"]');
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();
