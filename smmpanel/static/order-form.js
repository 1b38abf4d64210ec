// The new-order form, enhanced: choosing a category loads its services (JSON from the server,
// at this customer's rates) without reloading the page; the service type's fields swap in place
// and the charge is counted as it is typed. The server checks and charges it again.
(function () {
  "use strict";
  var dataNode = document.getElementById("order-data");
  var fieldsBox = document.getElementById("order-fields");
  if (!dataNode || !fieldsBox) return;
  var data = JSON.parse(dataNode.textContent);
  var serviceSelect = document.getElementById("service");
  var categorySelect = document.getElementById("category");
  var servicesById = {};
  var loading = 0; // the latest category asked for; an older answer is dropped
  var locale = document.documentElement.lang;
  var DIGITS = /^[0-9]{1,18}$/;

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function showDescription(text) {
    var box = document.getElementById("service-description");
    box.replaceChildren();
    text.split(/\r?\n/).forEach(function (line, index) {
      if (index) box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
  }

  function valueOf(name) {
    var input = fieldsBox.querySelector('[name="' + name + '"]');
    return input ? input.value.trim() : "";
  }

  function positive(name) {
    var text = valueOf(name);
    return DIGITS.test(text) && BigInt(text) > 0n ? BigInt(text) : null;
  }

  // Units charged for, as smmpanel/orders/validation.py counts them; null while incomplete.
  function units(service) {
    if (service.units === "lines") {
      var lines = valueOf(service.lines_field).split(/\r?\n/).filter(function (line) {
        return line.trim();
      });
      return lines.length ? BigInt(lines.length) : null;
    }
    if (service.units === "subscription") {
      var most = positive("max");
      var posts = positive("posts");
      return most === null ? null : posts === null ? 0n : most * posts;
    }
    var quantity = positive("quantity");
    return quantity === null ? null : quantity * (positive("runs") || 1n);
  }

  // smmpanel/money.py: charge_micros (half up to the millionth).
  function charge(service) {
    if (service.flat) return BigInt(service.rate);
    var counted = units(service);
    return counted === null ? null : (BigInt(service.rate) * counted + 500n) / 1000n;
  }

  // As the page's `charge` filter writes it (smmpanel/pagekit/money_format.py): exact, with
  // the fewest decimals, at least 2, in the page's money shape (data.money).
  function renderCharge(micros) {
    var money = data.money;
    var fraction = (micros % 1000000n).toString().padStart(6, "0").replace(/0+$/, "");
    var whole = (micros / 1000000n).toString().replace(/\B(?=(\d{3})+$)/g, money.group);
    return money.prefix + whole + money.decimal + fraction.padEnd(2, "0") + money.suffix;
  }

  function showCharge() {
    var service = servicesById[serviceSelect.value];
    var micros = service ? charge(service) : null;
    setText("charge", micros === null ? "–" : renderCharge(micros));
  }

  function swapFields(service) {
    var typed = {};
    fieldsBox.querySelectorAll("[name]").forEach(function (input) {
      typed[input.name] = input.value;
    });
    var template = document.querySelector('template[data-type="' + CSS.escape(service.type) + '"]');
    var fields = template.content.cloneNode(true);
    fields.querySelectorAll("[data-field]").forEach(function (label) {
      if (service.fields.indexOf(label.dataset.field) < 0) label.remove();
    });
    fields.querySelectorAll("[data-dripfeed]").forEach(function (pair) {
      if (!pair.querySelector("[data-field]")) pair.remove();
    });
    fields.querySelectorAll("[name]").forEach(function (input) {
      if (typed[input.name]) input.value = typed[input.name];
    });
    var quantity = fields.querySelector('[name="quantity"]');
    if (quantity) {
      quantity.min = service.min;
      quantity.max = service.max;
    }
    fieldsBox.replaceChildren(fields);
  }

  function showService() {
    var service = servicesById[serviceSelect.value];
    if (!service) return;
    document.getElementById("order-service").value = serviceSelect.value;
    setText("rate-label", service.flat ? data.labels.price : data.labels.rate);
    setText("service-rate", service.rate_text);
    setText("service-min", service.min.toLocaleString(locale));
    setText("service-max", service.max.toLocaleString(locale));
    showDescription(service.description);
    swapFields(service);
    history.replaceState(null, "", "?service=" + encodeURIComponent(serviceSelect.value));
    showCharge();
  }

  function keepServices(services) {
    servicesById = {};
    services.forEach(function (service) {
      servicesById[service.id] = service;
    });
  }

  function listServices(services) {
    keepServices(services);
    serviceSelect.replaceChildren();
    services.forEach(function (service) {
      var label = service.id + " · " + service.name + " · " + service.rate_text;
      serviceSelect.appendChild(new Option(label, service.id));
    });
    serviceSelect.disabled = false;
  }

  function showCategory() {
    var asked = ++loading;
    // Emptied at once, so nothing picks a service of the category left behind.
    serviceSelect.replaceChildren();
    serviceSelect.disabled = true;
    var url = data.services_url + "?category=" + encodeURIComponent(categorySelect.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (answer) {
        if (asked !== loading) return;
        listServices(answer.services);
        showService();
      })
      .catch(function () {
        if (asked === loading) document.getElementById("category-choice").submit();
      });
  }

  document.getElementById("show-services").remove();
  document.getElementById("show-fields").remove();
  keepServices(data.services);
  categorySelect.addEventListener("change", showCategory);
  serviceSelect.addEventListener("change", showService);
  fieldsBox.addEventListener("input", showCharge);
  showCharge();
})();
