/* Chart text that fits its chart on a narrow screen (issue 29), and a Sankey's short node names and
   column headings that do not meet there. Plotly does not wrap titles, axis titles or notes, and on a 390 px phone a long one ran past the chart's edge and was cut off. After
   every drawing of a chart, a title or note that runs out of the chart is set smaller (to no less than
   70 % of its size) and, if it still does not fit, moved back inside. Text that fits is left alone,
   so a laptop sees the charts exactly as drawn. */
(function () {
  var TEXT = '.gtitle, .xtitle, .ytitle, .annotation-text, .cbtitle text, .legendtitletext, ' +
             'text[class^="x"][class$="title"], text[class^="y"][class$="title"]';
  var SMALLEST = 0.7;

  // the text and its lines of their own size (a title's context and source lines): [element, size]
  function sized(t) {
    var out = [[t, parseFloat(t.style.fontSize || window.getComputedStyle(t).fontSize)]];
    t.querySelectorAll('tspan').forEach(function (s) {
      if (s.style.fontSize) { out.push([s, parseFloat(s.style.fontSize)]); }
    });
    return out;
  }

  function setScale(parts, scale) {
    parts.forEach(function (p) {
      var size = parseFloat(p[0].getAttribute('data-fit-base') || p[1]);
      p[0].setAttribute('data-fit-base', String(size));
      p[0].style.fontSize = (Math.round(size * scale * 10) / 10) + 'px';
      p[0].setAttribute('data-fit-size', p[0].style.fontSize);
    });
  }

  function fitOne(t, box) {
    var parts = sized(t);
    if (t.getAttribute('data-fit-size') !== t.style.fontSize) {     // drawn afresh by Plotly
      parts.forEach(function (p) { p[0].removeAttribute('data-fit-base'); });
      t.setAttribute('data-fit-transform', t.getAttribute('transform') || '');
    } else {                                                           // our own earlier fit: undo it first
      setScale(parts, 1);
      var before = t.getAttribute('data-fit-transform');
      if (before) { t.setAttribute('transform', before); } else { t.removeAttribute('transform'); }
    }
    var r = t.getBoundingClientRect();
    if (!r.width || r.height > r.width) { return; }                   // empty, or a vertical title
    var over = Math.max(box.left - r.left, 0) + Math.max(r.right - box.right, 0);
    if (over <= 0.5) { return; }
    setScale(parts, Math.max(SMALLEST, (r.width - over - 4) / r.width));
    r = t.getBoundingClientRect();
    var dx = r.left < box.left + 2 ? box.left + 2 - r.left : (r.right > box.right - 2 ? box.right - 2 - r.right : 0);
    if (dx) {
      var own = t.getAttribute('data-fit-transform');
      t.setAttribute('transform', 'translate(' + dx.toFixed(1) + ',0)' + (own ? ' ' + own : ''));
    }
  }

  // A Sankey's node names where the chart is narrow: the short names the figure carries in its nodes'
  // customdata (the full ones ran into the next column's nodes on a phone), the full ones elsewhere.
  var NARROW_SANKEY = 600;
  function sankeyNames(plot, width) {
    var trace = plot.data && plot.data[0];
    if (!trace || trace.type !== 'sankey' || !trace.node || !trace.node.customdata) { return; }
    var full = trace.node.label, short = trace.node.customdata, names = {};
    for (var i = 0; i < full.length; i++) { names[full[i]] = short[i]; }
    plot.querySelectorAll('.sankey .node-label').forEach(function (t) {
      var own = t.getAttribute('data-full-name') || t.textContent;
      if (!(own in names)) { return; }
      t.setAttribute('data-full-name', own);
      var want = width < NARROW_SANKEY ? names[own] : own;
      if (t.textContent !== want) { t.textContent = want; }
    });
  }

  // A Sankey's column headings (its annotations, one above each column: the first left-aligned, the
  // middle one centred, the last right-aligned) where two would meet, as the Danish "Modalitet" and
  // "Inden for 365 dage" did at 390 px: the wider of the pair is set on two lines, split at the space
  // nearest its middle, on its own side (left, centre or right) and with its foot where it was (the
  // figure leaves room above for a second line). Measured afresh on every drawing, from the one-line
  // headings, so a wider screen sees them on one line again.
  var HEAD_GAP = 12, SVG_NS = 'http://www.w3.org/2000/svg';
  function unwrapHeading(t) {
    if (t.hasAttribute('data-head-lines') && t.innerHTML === t.getAttribute('data-head-lines')) {
      t.innerHTML = t.getAttribute('data-head-orig');              // our own two lines: back to one
    }
    t.removeAttribute('data-head-lines');
    t.removeAttribute('data-head-orig');
  }

  function wrapHeading(t, side) {
    var words = t.textContent.trim().split(/\s+/);
    if (words.length < 2) { return false; }
    var cut = 1, best = Infinity, all = words.join(' ').length;
    for (var i = 1; i < words.length; i++) {
      var d = Math.abs(all - 2 * words.slice(0, i).join(' ').length);
      if (d < best) { best = d; cut = i; }
    }
    var before = t.getBoundingClientRect(), orig = t.innerHTML;
    var inner = t.querySelector('tspan'), style = inner && inner.getAttribute('style');
    var x = parseFloat(t.getAttribute('x') || '0');
    t.textContent = '';
    [words.slice(0, cut).join(' '), words.slice(cut).join(' ')].forEach(function (line, i) {
      var s = document.createElementNS(SVG_NS, 'tspan');
      s.setAttribute('class', 'line');
      s.setAttribute('x', String(x));
      s.setAttribute('dy', i ? '1.3em' : '0');
      if (style) { s.setAttribute('style', style); }
      s.textContent = line;
      t.appendChild(s);
    });
    var after = t.getBoundingClientRect();
    var dx = side === 'left' ? before.left - after.left
      : side === 'right' ? before.right - after.right : (before.left + before.right - after.left - after.right) / 2;
    t.querySelectorAll('tspan.line').forEach(function (s) { s.setAttribute('x', (x + dx).toFixed(1)); });
    t.firstChild.setAttribute('dy', (before.bottom - after.bottom).toFixed(1));
    t.setAttribute('data-head-orig', orig);
    t.setAttribute('data-head-lines', t.innerHTML);
    return true;
  }

  function sankeyHeadings(plot) {
    var trace = plot.data && plot.data[0];
    if (!trace || trace.type !== 'sankey') { return; }
    var notes = (plot.layout && plot.layout.annotations) || [], heads = [];
    plot.querySelectorAll('.annotation').forEach(function (g) {
      var t = g.querySelector('.annotation-text'), note = notes[Number(g.getAttribute('data-index'))];
      if (!t || !note) { return; }
      unwrapHeading(t);
      heads.push({text: t, side: note.xanchor});
    });
    var box = function (h) { return h.text.getBoundingClientRect(); };
    for (var round = 0; round < heads.length; round++) {
      heads.sort(function (a, b) { return box(a).left - box(b).left; });
      var meeting = null;
      for (var i = 0; i + 1 < heads.length && !meeting; i++) {
        if (box(heads[i]).right + HEAD_GAP > box(heads[i + 1]).left) { meeting = [heads[i], heads[i + 1]]; }
      }
      if (!meeting) { return; }
      var open = meeting.filter(function (h) { return !h.text.hasAttribute('data-head-lines'); })
        .sort(function (a, b) { return box(b).width - box(a).width; });
      if (!open.length || !open.some(function (h) { return wrapHeading(h.text, h.side); })) { return; }
    }
  }

  function fit(plot) {
    var svg = plot.querySelector('.main-svg');
    if (!svg) { return; }
    var box = svg.getBoundingClientRect();
    if (!box.width) { return; }
    sankeyNames(plot, box.width);
    sankeyHeadings(plot);
    plot.querySelectorAll(TEXT).forEach(function (t) {
      if (t.textContent.trim()) { fitOne(t, box); }
    });
  }

  function watch(root) {
    root.querySelectorAll('.js-plotly-plot').forEach(function (plot) {
      if (plot.getAttribute('data-fit-watched') || typeof plot.on !== 'function') { return; }
      plot.setAttribute('data-fit-watched', '1');
      plot.on('plotly_afterplot', function () { fit(plot); });
      fit(plot);
    });
  }

  function start() {
    watch(document);
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; watch(document); });
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
