// The header menu is an open <details> in the page, so it works without scripts; on a phone
// it starts folded behind its button, and it opens again when the window grows wide.
(() => {
  const menu = document.currentScript.previousElementSibling;
  const phone = window.matchMedia("(max-width: 600px)");
  const fit = () => { menu.open = !phone.matches; };
  fit();
  phone.addEventListener("change", fit);
})();
