// plotly.js with only the trace types the atlas draws (issue 29: a first visit of at most 1 MB).
// Scatter comes with the core. Add a type here when a chart starts using it; the browser test
// tests/test_browser_first_visit.py fails on a chart that the bundle cannot draw.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
  require('plotly.js/lib/bar'),         // breakdowns, pathways, returns by exam type
  require('plotly.js/lib/box'),         // returns: spread between centres
  require('plotly.js/lib/heatmap'),     // imaging mix tiles, returns per centre and month
  require('plotly.js/lib/choropleth'),  // the map
  require('plotly.js/lib/scattergeo'),  // the map's good-practice stars
  require('plotly.js/lib/sankey'),      // pathways
]);

window.Plotly = Plotly;
module.exports = Plotly;
