/* Every page: after an htmx swap, keep keyboard focus where the person was (or move it to what changed)
 * and read the change out in one polite live region; swap error answers like any other when a person
 * asked (samrad answers a refused htmx change with the part it replaces, its messages next to the fields,
 * or with the error box that says what happened; htmx would otherwise drop them and the person would see
 * nothing happen; the next change that goes through takes an error at the top away), but not for a part
 * that reloads itself (hx-trigger "every …"), which keeps what it showed and tries again; fold the main
 * menu behind a button on narrow screens; and copy a field's text with a button ([data-copy]). */
(function () {
  "use strict";

  var focusedId = null;

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var active = document.activeElement;
    focusedId = active && active !== document.body ? active.id || null : null;
    var status = evt.detail.xhr.status;
    var trigger = (evt.detail.requestConfig && evt.detail.requestConfig.elt
      && evt.detail.requestConfig.elt.getAttribute("hx-trigger")) || "";
    if (/\bevery\b/.test(trigger)) return;
    if (status >= 400 && evt.detail.xhr.responseText) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    } else if (status < 400) {
      // The next change the person makes answers the last error: it no longer stands at the top.
      var pageError = document.getElementById("page-error");
      if (pageError) pageError.replaceChildren();
    }
  });

  function find(root, selector) {
    if (root.matches && root.matches(selector)) return root;
    return root.querySelector ? root.querySelector(selector) : null;
  }

  function announce(root) {
    var region = document.getElementById("announcer");
    var source = find(root, "[data-announce]");
    if (!region || !source) return;
    var text = source.textContent.replace(/\s+/g, " ").trim();
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function focusTarget(root) {
    var byServer = root.dataset && root.dataset.focus ? document.getElementById(root.dataset.focus) : null;
    return byServer
      || find(root, "[data-focus-here]")
      || (focusedId && root.contains(document.getElementById(focusedId)) ? document.getElementById(focusedId) : null)
      || find(root, "[autofocus]")
      || find(root, "h1, h2, h3, h4")
      || root;
  }

  function keepFocus(root) {
    var active = document.activeElement;
    var lost = !active || active === document.body || !document.contains(active);
    if (!lost && !(root.dataset && root.dataset.focus) && !find(root, "[data-focus-here]")) return;
    var target = focusTarget(root);
    if (!target || target.disabled) return;
    if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    var root = evt.detail.elt;
    // Content swapped out of band (htmx drops its hx-swap-oob attribute, so it carries data-oob) is a side
    // effect: it neither takes focus nor speaks.
    if (!root || !root.isConnected || (root.hasAttribute && root.hasAttribute("data-oob"))) return;
    announce(root);
    keepFocus(root);
  });

  // A button that copies a field's text (the calendar address): shown only where it can work.
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.dataset.copy);
      if (!field || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          var region = document.getElementById("announcer");
          if (region) region.textContent = button.dataset.copied || "";
        }, function () {
          field.focus();
          field.select();
        });
      });
    });
  }

  function foldMenu() {
    var toggle = document.querySelector(".nav-toggle");
    var menu = toggle ? document.getElementById(toggle.getAttribute("aria-controls")) : null;
    if (!menu) return;
    document.documentElement.classList.add("js-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    });
  }
  function start() {
    foldMenu();
    copyButtons();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
