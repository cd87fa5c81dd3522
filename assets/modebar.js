/* Keep Plotly's chart toolbars out of the tab order (each chart would add its buttons as tab stops;
   keyboard users download from the card buttons instead), and give their tooltips in Danish on
   Danish pages. */
(function () {
  var DANISH = {
    'Download plot as a PNG': 'Hent diagrammet som PNG',
    'Download plot': 'Hent diagrammet',
    'Reset axes': 'Nulstil akserne',
    'Reset view': 'Nulstil visningen',
    'Reset': 'Nulstil',
    'Autoscale': 'Tilpas akserne',
  };
  function danish() { return /[?&]lang=da\b/.test(window.location.search); }
  function quiet(root) {
    var da = danish();
    root.querySelectorAll('.modebar-btn').forEach(function (b) {
      if (b.getAttribute('tabindex') !== '-1') { b.setAttribute('tabindex', '-1'); }
      ['data-title', 'aria-label'].forEach(function (name) {
        var text = b.getAttribute(name);
        if (da && text && DANISH[text]) { b.setAttribute(name, DANISH[text]); }
      });
    });
  }
  function start() {
    quiet(document);
    new MutationObserver(function (changes) {
      for (const c of changes) {
        if (c.addedNodes.length || c.type === 'attributes') { quiet(document); return; }
      }
    }).observe(document.body, {childList: true, subtree: true, attributes: true,
                               attributeFilter: ['data-title', 'aria-label', 'tabindex']});
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
