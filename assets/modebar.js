/* Keep Plotly's chart toolbars out of the tab order (each chart would add its buttons as tab stops;
   keyboard users download from the card buttons instead), and give their tooltips in Danish on
   Danish pages. */
(function () {
  var DANISH = {
    'Download plot as a png': 'Hent diagrammet som PNG',
    'Download plot': 'Hent diagrammet',
    'Reset axes': 'Nulstil akserne',
    'Reset view': 'Nulstil visningen',
    'Autoscale': 'Tilpas akserne',
  };
  function danish() { return /[?&]lang=da\b/.test(window.location.search); }
  function quiet(root) {
    var da = danish();
    root.querySelectorAll('.modebar-btn').forEach(function (b) {
      if (b.getAttribute('tabindex') !== '-1') { b.setAttribute('tabindex', '-1'); }
      var title = b.getAttribute('data-title');
      if (da && title && DANISH[title]) { b.setAttribute('data-title', DANISH[title]); }
    });
  }
  function start() {
    quiet(document);
    new MutationObserver(function (changes) {
      for (const c of changes) {
        if (c.addedNodes.length) { quiet(document); return; }
      }
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
