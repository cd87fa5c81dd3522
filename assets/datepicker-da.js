/* The date and year controls in the page's language (issue 29): Dash's date picker formats its
   month names and weekdays with a date-fns locale it looks up in window.dateFns.locale (by the
   browser's language, else the first one there); its buttons and the year slider's handles carry
   English labels. On a Danish page (?lang=da) the picker gets the Danish locale below (month and day
   names, Danish date formats, Monday first) and the labels are put in Danish; on an English page
   nothing is registered, so the picker keeps its English default whatever the browser's language. */
(function () {
  function danish() { return /[?&]lang=da\b/.test(window.location.search); }

  var MONTHS = {
    wide: ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober',
           'november', 'december'],
    abbreviated: ['jan.', 'feb.', 'mar.', 'apr.', 'maj', 'jun.', 'jul.', 'aug.', 'sep.', 'okt.', 'nov.', 'dec.'],
    narrow: ['J', 'F', 'M', 'A', 'M', 'J', 'J', 'A', 'S', 'O', 'N', 'D'],
  };
  var DAYS = {   // Sunday first, as date-fns counts them
    wide: ['søndag', 'mandag', 'tirsdag', 'onsdag', 'torsdag', 'fredag', 'lørdag'],
    abbreviated: ['søn.', 'man.', 'tir.', 'ons.', 'tor.', 'fre.', 'lør.'],
    short: ['sø', 'ma', 'ti', 'on', 'to', 'fr', 'lø'],
    narrow: ['S', 'M', 'T', 'O', 'T', 'F', 'L'],
  };
  function pick(table, n, options) {
    var width = (options && options.width) || 'wide';
    return (table[width] || table.wide)[n];
  }
  function formats(table) {
    return function (options) { return table[(options && options.width) || 'full'] || table.full; };
  }
  function noMatch() { return null; }     // the picker parses its numeric display format only

  var DANISH_LOCALE = {
    code: 'da',
    localize: {
      ordinalNumber: function (n) { return Number(n) + '.'; },
      era: function (n, o) { return pick({wide: ['før Kristus', 'efter Kristus'], abbreviated: ['f.Kr.', 'e.Kr.'],
                                          narrow: ['fKr', 'eKr']}, n, o); },
      quarter: function (n, o) { return pick({wide: ['1. kvartal', '2. kvartal', '3. kvartal', '4. kvartal'],
                                              abbreviated: ['1. kvt.', '2. kvt.', '3. kvt.', '4. kvt.'],
                                              narrow: ['1', '2', '3', '4']}, n, o); },
      month: function (n, o) { return pick(MONTHS, n, o); },
      day: function (n, o) { return pick(DAYS, n, o); },
      dayPeriod: function (p) { return {am: 'AM', pm: 'PM', midnight: 'midnat', noon: 'middag', morning: 'morgen',
                                        afternoon: 'eftermiddag', evening: 'aften', night: 'nat'}[p] || p; },
    },
    formatLong: {
      date: formats({full: "EEEE 'den' d. MMMM y", long: 'd. MMMM y', medium: 'd. MMM y', short: 'dd.MM.y'}),
      time: formats({full: 'HH:mm:ss zzzz', long: 'HH:mm:ss z', medium: 'HH:mm:ss', short: 'HH:mm'}),
      dateTime: formats({full: "{{date}} 'kl'. {{time}}", long: "{{date}} 'kl'. {{time}}",
                         medium: '{{date}} {{time}}', short: '{{date}} {{time}}'}),
    },
    formatRelative: function () { return "P 'kl'. p"; },
    match: {ordinalNumber: noMatch, era: noMatch, quarter: noMatch, month: noMatch, day: noMatch, dayPeriod: noMatch},
    options: {weekStartsOn: 1, firstWeekContainsDate: 4},
  };

  // read on every render of a picker: the locale follows the page's language as it is now
  var registry = window.dateFns = window.dateFns || {};
  var own = registry.locale;
  Object.defineProperty(registry, 'locale', {
    configurable: true,
    get: function () { return danish() ? {da: DANISH_LOCALE} : (own || {}); },
    set: function (value) { own = value; },
  });

  var LABELS = {
    'Select Date': 'Vælg dato', 'Previous month': 'Forrige måned', 'Next month': 'Næste måned',
    'Decrease value': 'Et år tilbage', 'Increase value': 'Et år frem', 'Close calendar': 'Luk kalenderen',
    'Clear date': 'Ryd datoen', 'Clear Dates': 'Ryd datoerne', 'Minimum': 'Første år', 'Maximum': 'Sidste år',
  };
  function translate(root) {
    if (!danish()) { return; }
    root.querySelectorAll('.dash-datepicker [aria-label], .dash-datepicker-calendar-container [aria-label], ' +
                          '[class*="datepicker"] [aria-label], #years [aria-label]').forEach(function (e) {
      var text = e.getAttribute('aria-label');
      if (LABELS[text]) { e.setAttribute('aria-label', LABELS[text]); }
    });
  }
  function start() {
    translate(document);
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; translate(document); });
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
