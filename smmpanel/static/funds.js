// Shows, as an amount is typed, the fee and what lands on the balance: the same integer
// arithmetic in millionths as payments.methods.Terms.quote, so the page and the panel agree.
(function () {
  var data = document.getElementById("payment-terms");
  var method = document.getElementById("pay-method");
  var amount = document.getElementById("pay-amount");
  var preview = document.getElementById("pay-preview");
  var reference = document.getElementById("pay-reference-label");
  if (!data || !method || !amount || !preview) { return; }
  var terms = JSON.parse(data.textContent);
  var MICROS = 1000000n;
  var HUNDRED_PERCENT = 100n * MICROS;

  function toMicros(text) {
    var match = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
    if (!match) { return null; }
    return BigInt(match[1]) * MICROS + BigInt((match[2] || "").padEnd(6, "0"));
  }
  function render(micros, places) {
    var whole = micros / MICROS;
    var frac = (micros % MICROS).toString().padStart(6, "0").replace(/0+$/, "");
    while (frac.length < places) { frac += "0"; }
    return frac ? whole + "." + frac : whole.toString();
  }
  function quote(t, paid) {
    var percentFee = (paid * BigInt(t.fee_percent) + HUNDRED_PERCENT - 1n) / HUNDRED_PERCENT;
    var fee = percentFee + BigInt(t.fee_fixed);
    if (fee > paid) { fee = paid; }
    var credited = (paid - fee) * BigInt(t.rate) / MICROS;
    var bonus = 0n;
    if (BigInt(t.bonus_percent) > 0n && paid >= BigInt(t.bonus_from)) {
      bonus = credited * BigInt(t.bonus_percent) / HUNDRED_PERCENT;
    }
    return { fee: fee, credited: credited, bonus: bonus };
  }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }
  function update() {
    var t = terms[method.value];
    var chosen = method.options[method.selectedIndex];
    if (reference) { reference.hidden = !chosen || chosen.dataset.gateway !== "manual"; }
    var paid = toMicros(amount.value);
    if (!t || paid === null || paid === 0n) { preview.textContent = ""; return; }
    var q = quote(t, paid);
    var panelCurrency = preview.dataset.panelCurrency;
    var values = {
      amount: render(paid, 2), currency: t.currency, fee: render(q.fee, 2) + " " + t.currency,
      credited: render(q.credited, 2), panel_currency: panelCurrency, bonus: render(q.bonus, 2)
    };
    var text = fill(preview.dataset.text, values);
    if (q.bonus > 0n) { text += fill(preview.dataset.bonus, values); }
    preview.textContent = text + ".";
  }
  method.addEventListener("change", update);
  amount.addEventListener("input", update);
  update();
})();
