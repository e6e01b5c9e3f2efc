/* The agenda builder and the meeting day: drag and drop (SortableJS) and a polite announcement of the time
 * indicator. Swapping 400/409 answers (they carry the current agenda and a message) and focus after a swap
 * are app.js's (the builder names the element in data-focus). */
(function () {
  "use strict";

  function initSortable(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-sortable]").forEach(function (list) {
      if (list.dataset.sortableReady) return;
      list.dataset.sortableReady = "1";
      var form = list.closest("form");
      Sortable.create(list, {
        handle: ".agenda-item",
        draggable: ".agenda-item",
        animation: 0,
        filter: "button, input, label, a",
        preventOnFilter: false,
        onEnd: function (evt) {
          if (evt.oldIndex !== evt.newIndex) form.dispatchEvent(new Event("end"));
        },
      });
    });
  }

  function announce(root) {
    var announcer = document.getElementById("agenda-announcer");
    var fit = root.querySelector("[data-fit-text]");
    if (announcer && fit) announcer.textContent = fit.textContent.replace(/\s+/g, " ").trim();
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    // htmx copies the style attribute of elements with the same id onto the new ones ("settling");
    // styles SortableJS left behind would then break the CSP (style-src 'self'). Drop them first.
    var agendaRoot = evt.detail.elt.closest("[data-agenda]");
    if (agendaRoot) {
      agendaRoot.querySelectorAll("[style]").forEach(function (el) { el.removeAttribute("style"); });
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.matches || !root.matches("[data-agenda]")) {
      root = document.querySelector("[data-agenda]");
    }
    if (!root) return;
    initSortable(root);
    announce(root);
  });

  function start() {
    var root = document.querySelector("[data-agenda]");
    if (root) initSortable(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
