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
  // How the server writes an amount of each currency (web/funds.py, pagekit/money_format.py).
  var shapes = JSON.parse(preview.dataset.money || "{}");
  var MICROS = 1000000n;
  var HUNDRED_PERCENT = 100n * MICROS;

  function toMicros(text) {
    var match = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
    if (!match) { return null; }
    return BigInt(match[1]) * MICROS + BigInt((match[2] || "").padEnd(6, "0"));
  }
  // As money_format.format_money writes an amount: exact, with at least 2 decimals, the
  // digits grouped, the currency's ISO code where the language puts it.
  function grouped(whole, shape) {
    var first = shape.grouping[0], later = shape.grouping[1];
    if (whole.length <= first) { return whole; }
    var groups = [whole.slice(-first)];
    var head = whole.slice(0, -first);
    while (head.length > later) { groups.unshift(head.slice(-later)); head = head.slice(0, -later); }
    groups.unshift(head);
    return groups.join(shape.group);
  }
  function money(micros, currency) {
    var shape = shapes[currency];
    var frac = (micros % MICROS).toString().padStart(6, "0").replace(/0+$/, "");
    while (frac.length < 2) { frac += "0"; }
    if (!shape) { return (micros / MICROS) + "." + frac + " " + currency; }
    var digits = grouped((micros / MICROS).toString(), shape) + shape.decimal + frac;
    return shape.prefix + digits + shape.suffix;
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
      amount: money(paid, t.currency), fee: money(q.fee, t.currency),
      credited: money(q.credited, panelCurrency), bonus: money(q.bonus, panelCurrency)
    };
    var text = fill(preview.dataset.text, values);
    if (q.bonus > 0n) { text += fill(preview.dataset.bonus, values); }
    preview.textContent = text + ".";
  }
  method.addEventListener("change", update);
  amount.addEventListener("input", update);
  update();
})();
